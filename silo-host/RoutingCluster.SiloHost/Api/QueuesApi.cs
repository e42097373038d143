using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Audit;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.SiloHost.Api;

/// <summary><c>/v1/queues</c>: queue configuration (admin).</summary>
public static class QueuesApi
{
    public static RouteGroupBuilder MapQueuesApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<InputValidationFilter>().WithApiConventions("Queues");
        group.MapPut("/{id}", PutQueue).WithName(nameof(PutQueue))
            .WithSummary("Create or replace a queue's configuration (admin)")
            .WithDescription("Every field is optional, with the contract's defaults; answers the configuration in full.")
            .RequireAuthorization(AccessPolicies.Configure);
        group.MapGet("/{id}", GetQueue).WithName(nameof(GetQueue))
            .WithSummary("Get a queue's configuration (admin, supervisor)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.ReadQueues);
        group.MapGet("/{id}/agents", GetQueueAgents).WithName(nameof(GetQueueAgents))
            .WithSummary("The agents serving a queue, with their states (supervisor, admin)")
            .WithDescription("Each agent as GET /v1/agents/{id} answers it, in agent id order; forcedBy names the supervisor "
                + "who set the state in the agent's place.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.SuperviseAgents);
        return group;
    }

    /// <summary>Creates or replaces the queue's configuration (200 either way) and answers it in full. The change is
    /// recorded in the audit log (configuration before and after) first; without that record nothing changes (503).</summary>
    public static async Task<Results<Ok<QueueResponse>, ValidationProblem, ProblemHttpResult>> PutQueue(
        string id, JsonBody<QueueRequest> body, RoutingGrains grains, AuditTrail audit, HttpContext http)
    {
        if (body.Value.OverflowQueueId == id)
        {
            return Problems.Invalid("overflowQueueId", "A queue cannot overflow into itself.");
        }

        var queue = grains.Queue(id);
        var config = body.Value.ToConfig(id);
        var before = await queue.GetAsync();
        if (await audit.ConfigurationChangeAsync(http, AuditActions.QueueConfigured, id,
                before is null ? null : QueueResponse.From(before), QueueResponse.From(config)) is { } refused)
        {
            return refused;
        }

        return TypedResults.Ok(QueueResponse.From(await queue.PutAsync(config)));
    }

    public static async Task<Results<Ok<QueueResponse>, ProblemHttpResult>> GetQueue(string id, RoutingGrains grains) =>
        await grains.Queue(id).GetAsync() is { } config
            ? TypedResults.Ok(QueueResponse.From(config))
            : Problems.NotFound($"Queue '{id}' does not exist.");

    /// <summary>The queue's roster, each agent read from its own grain (a supervisor's view, asked for every few
    /// seconds, not a routing path); at most <see cref="MaxAgentsListed"/>.</summary>
    public static async Task<Results<Ok<AgentResponse[]>, ProblemHttpResult>> GetQueueAgents(string id, RoutingGrains grains)
    {
        var queue = grains.Queue(id);
        if (await queue.GetAsync() is null)
        {
            return Problems.NotFound($"Queue '{id}' does not exist.");
        }

        var ids = (await queue.GetAgentsAsync()).Select(a => a.AgentId).Order(StringComparer.Ordinal).Take(MaxAgentsListed);
        var views = await Task.WhenAll(ids.Select(agentId => grains.Agent(agentId).GetAsync()));
        return TypedResults.Ok(views.OfType<AgentView>().Select(AgentResponse.From).ToArray());
    }

    /// <summary>The most agents <see cref="GetQueueAgents"/> lists.</summary>
    public const int MaxAgentsListed = 1_000;
}
