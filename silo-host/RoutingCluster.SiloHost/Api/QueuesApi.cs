using RoutingCluster.Abstractions.Queues;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;

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
        return group;
    }

    /// <summary>Creates or replaces the queue's configuration (200 either way) and answers it in full.</summary>
    public static async Task<Results<Ok<QueueResponse>, ValidationProblem>> PutQueue(string id, JsonBody<QueueRequest> body, IGrainFactory grains)
    {
        if (body.Value.OverflowQueueId == id)
        {
            return Problems.Invalid("overflowQueueId", "A queue cannot overflow into itself.");
        }

        return TypedResults.Ok(QueueResponse.From(await grains.GetGrain<IQueueGrain>(id).PutAsync(body.Value.ToConfig(id))));
    }

    public static async Task<Results<Ok<QueueResponse>, ProblemHttpResult>> GetQueue(string id, IGrainFactory grains) =>
        await grains.GetGrain<IQueueGrain>(id).GetAsync() is { } config
            ? TypedResults.Ok(QueueResponse.From(config))
            : Problems.NotFound($"Queue '{id}' does not exist.");
}
