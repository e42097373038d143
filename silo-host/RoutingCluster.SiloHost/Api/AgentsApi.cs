using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Abstractions.Common;
using RoutingCluster.Abstractions.Sessions;
using System.Security.Claims;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Audit;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.SiloHost.Api;

/// <summary><c>/v1/agents</c>: profiles (admin), states and offers (agents). Every action answers the agent as
/// it is afterwards (200 with the agent view), so a desktop sees at once the next offer it was given.</summary>
public static class AgentsApi
{
    public static RouteGroupBuilder MapAgentsApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<InputValidationFilter>().WithApiConventions("Agents");
        group.MapPut("/{id}", PutAgent).WithName(nameof(PutAgent))
            .WithSummary("Create or replace an agent's profile (admin)")
            .WithDescription("A new agent starts logged-out. Without capacity the defaults apply; with it, a channel "
                + "left out is not worked.")
            .RequireAuthorization(AccessPolicies.Configure);
        group.MapGet("/{id}", GetAgent).WithName(nameof(GetAgent))
            .WithSummary("Get an agent: state, sessions held, pending offers, profile (the agent itself, supervisor, admin)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.ReadAgents);
        group.MapPut("/{id}/queues", MoveAgent).WithName(nameof(MoveAgent))
            .WithSummary("Move an agent to other queues, live (supervisor, admin)")
            .WithDescription("The agent serves the queues given from now on; sessions and offers it holds stay with it. "
                + "Answers the agent as it is afterwards.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.SuperviseAgents);
        group.MapPost("/{id}/state", SetAgentState).WithName(nameof(SetAgentState))
            .WithSummary("Set an agent's state: ready, not-ready (with a reason) or logged-out")
            .WithDescription("The agent itself; a supervisor may set not-ready or logged-out in its place (403 for ready): the "
                + "state is forced (forcedBy names the supervisor) until the agent chooses a state again. "
                + "409 for logged-out while the agent holds sessions or offers.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AccessPolicies.SetAgentState);
        group.MapPost("/{id}/offers/{sessionId}/accept", AcceptOffer).WithName(nameof(AcceptOffer))
            .WithSummary("Accept an offer").AgentAction("no such offer is pending (it expired, was withdrawn or was never made)");
        group.MapPost("/{id}/offers/{sessionId}/reject", RejectOffer).WithName(nameof(RejectOffer))
            .WithSummary("Reject an offer").AgentAction("no such offer is pending (it expired, was withdrawn or was never made)");
        group.MapPost("/{id}/sessions/{sessionId}/end", EndSession).WithName(nameof(EndSession))
            .WithSummary("End the talk; wrap-up starts").AgentAction("the session is not connected with this agent");
        group.MapPost("/{id}/sessions/{sessionId}/wrap-up-done", FinishWrapUp).WithName(nameof(FinishWrapUp))
            .WithSummary("End wrap-up early").AgentAction("the session is not in wrap-up with this agent");
        return group;
    }

    /// <summary>Creates or replaces the agent's profile, recorded in the audit log first (503 and no change without it).</summary>
    public static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> PutAgent(
        string id, JsonBody<PutAgentRequest> body, RoutingGrains grains, AuditTrail audit, HttpContext http)
    {
        var agent = grains.Agent(id);
        var profile = body.Value.ToProfile();
        var before = await agent.GetAsync();
        if (await audit.ConfigurationChangeAsync(http, AuditActions.AgentConfigured, id,
                before is null ? null : AgentConfiguration.From(before), AgentConfiguration.From(profile)) is { } refused)
        {
            return refused;
        }

        return TypedResults.Ok(AgentResponse.From(await agent.PutProfileAsync(profile)));
    }

    public static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> GetAgent(string id, RoutingGrains grains) =>
        await grains.Agent(id).GetAsync() is { } view
            ? TypedResults.Ok(AgentResponse.From(view))
            : Problems.NotFound($"Agent '{id}' does not exist.");

    public static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> SetAgentState(
        string id, JsonBody<SetAgentStateRequest> body, ClaimsPrincipal user, RoutingGrains grains, AuditTrail audit, HttpContext http)
    {
        var state = body.Value.State!.Value;
        var supervisor = Supervision.SupervisorActingFor(user, id);

        // The policy let through the agent itself or a supervisor; only the agent itself goes ready.
        if (state == AgentState.Ready && !(user.IsInRole(Roles.Agent) && AccessClaims.AgentIdOf(user) == id))
        {
            var detail = $"only agent {id} itself may set ready; a supervisor may set not-ready or logged-out";
            audit.Record(http, user, AuditActions.AccessRefused, id, AuditOutcomes.Refused, detail: $"POST /v1/agents/{{id}}/state: {detail}");
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);
        }

        var agent = grains.Agent(id);
        var answer = supervisor is not null
            ? await agent.ForceStateAsync(state, body.Value.Reason ?? "supervisor", supervisor)
            : await agent.SetStateAsync(state, body.Value.Reason);
        audit.Record(http, user, AuditActions.AgentStateChanged, id, AuditTrail.OutcomeOf(answer.Outcome), forced: supervisor is not null,
            detail: answer.Outcome.Detail, after: new AgentStateChange(state, answer.View?.Reason ?? body.Value.Reason));
        return Answered(answer);
    }

    /// <summary>Moves the agent to other queues without touching what it holds; recorded in the audit log first (503
    /// and no move without it).</summary>
    public static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> MoveAgent(
        string id, JsonBody<MoveAgentRequest> body, RoutingGrains grains, AuditTrail audit, HttpContext http)
    {
        var agent = grains.Agent(id);
        if (await agent.GetAsync() is not { } before)
        {
            return Problems.NotFound($"Agent '{id}' does not exist.");
        }

        var queues = body.Value.ToQueues();
        if (await audit.ConfigurationChangeAsync(http, AuditActions.AgentMoved, id,
                new AgentQueuesConfiguration(before.Queues), new AgentQueuesConfiguration(queues)) is { } refused)
        {
            return refused;
        }

        return await agent.MoveToQueuesAsync(queues) is { } view
            ? TypedResults.Ok(AgentResponse.From(view))
            : Problems.NotFound($"Agent '{id}' does not exist.");
    }

    public static Task<Results<Ok<AgentResponse>, ProblemHttpResult>> AcceptOffer(string id, string sessionId, RoutingGrains grains) =>
        Act(grains, id, sessionId, a => a.AcceptAsync(sessionId));

    /// <summary>The session goes back to its queue at its original place; this agent gets it again only when no
    /// one else is eligible.</summary>
    public static Task<Results<Ok<AgentResponse>, ProblemHttpResult>> RejectOffer(string id, string sessionId, RoutingGrains grains) =>
        Act(grains, id, sessionId, a => a.RejectAsync(sessionId));

    /// <summary>Talk ends; the session goes to wrap-up for the queue's wrap-up time.</summary>
    public static Task<Results<Ok<AgentResponse>, ProblemHttpResult>> EndSession(string id, string sessionId, RoutingGrains grains) =>
        Act(grains, id, sessionId, a => a.EndAsync(sessionId));

    /// <summary>Wrap-up ends early; the session completes and the agent may be offered the next one.</summary>
    public static Task<Results<Ok<AgentResponse>, ProblemHttpResult>> FinishWrapUp(string id, string sessionId, RoutingGrains grains) =>
        Act(grains, id, sessionId, a => a.WrapUpDoneAsync(sessionId));

    /// <summary>An agent's action on one session. A refusal for a session that does not exist at all is a 404.</summary>
    private static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> Act(
        RoutingGrains grains, string id, string sessionId, Func<IAgentGrain, Task<Answer<AgentView>>> action)
    {
        var answer = await action(grains.Agent(id));
        if (answer.Code == OutcomeCode.Conflict && await grains.Session(sessionId).GetAsync() is null)
        {
            return Problems.NotFound($"Session '{sessionId}' does not exist.");
        }

        return Answered(answer);
    }

    /// <summary>The API description of an agent's action on one session: 404 for an unknown agent or session,
    /// 409 when <paramref name="conflict"/>.</summary>
    private static RouteHandlerBuilder AgentAction(this RouteHandlerBuilder endpoint, string conflict) => endpoint
        .RequireAuthorization(AccessPolicies.AgentItself)
        .WithDescription($"Answers the agent as it is afterwards. 409 when {conflict}; 404 when the agent or the session does not exist.")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict);

    /// <summary>The agent as its grain computed it after the action: no second call to read it.</summary>
    private static Results<Ok<AgentResponse>, ProblemHttpResult> Answered(Answer<AgentView> answer) =>
        answer is { IsOk: true, View: { } view } ? TypedResults.Ok(AgentResponse.From(view)) : Problems.From(answer.Outcome);
}
