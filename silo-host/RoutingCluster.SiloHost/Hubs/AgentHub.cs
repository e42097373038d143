using Microsoft.AspNetCore.SignalR;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Abstractions.Common;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>The answer to an agent action over the hub: like the HTTP API's status and problem detail.</summary>
public sealed record HubResult(bool Ok, int Status, string? Detail)
{
    public static HubResult From(Answer<AgentView> answer) => From(answer.Outcome);

    public static HubResult From(Outcome outcome) => outcome.Code switch
    {
        OutcomeCode.Ok => new(true, StatusCodes.Status200OK, null),
        OutcomeCode.NotFound => new(false, StatusCodes.Status404NotFound, outcome.Detail),
        _ => new(false, StatusCodes.Status409Conflict, outcome.Detail),
    };
}

/// <summary>
/// <c>/hubs/agent</c>: the agent desktop's connection. The desktop signs in as an agent, then performs the same
/// actions as the HTTP API and receives, pushed live: <c>offer</c>, <c>offerWithdrawn</c>, <c>offerExpired</c>
/// and <c>agentChanged</c>. A dropped connection leaves the agent as it is for a grace period (then not-ready);
/// a pending offer is still there when the desktop signs in again. The connection needs an agent token and acts
/// for its <c>agent_id</c> only; it is closed when the token expires (the desktop reconnects with a fresh one).
/// </summary>
public sealed class AgentHub(AgentDesktopRelay relay, RoutingGrains grains, Audit.AuditTrail audit,
    Microsoft.Extensions.Options.IOptions<Access.RateLimitOptions> limits, ILogger<AgentHub> logger) : Hub
{
    /// <summary>Server-to-desktop method names.</summary>
    public static class Events
    {
        public const string Offer = "offer";
        public const string OfferWithdrawn = "offerWithdrawn";
        public const string OfferExpired = "offerExpired";
        public const string AgentChanged = "agentChanged";
    }

    public async Task<AgentView> SignIn(string agentId)
    {
        if (Ids.Problem(agentId) is { } problem)
        {
            throw new HubException($"agentId: {problem}");
        }

        // The connection acts for its token's agent only (the hub's policy let in agent tokens naming one).
        var own = Access.AccessClaims.AgentIdOf(Context.User!);
        if (!string.Equals(own, agentId, StringComparison.Ordinal))
        {
            Access.AccessLog.HubSignInRefused(logger, agentId, Context.ConnectionId, own);
            audit.Record(Context.GetHttpContext(), Context.User, AuditActions.AccessRefused, agentId, AuditOutcomes.Refused,
                detail: $"/hubs/agent SignIn: acts for agent {own}, not {agentId}");
            throw new HubException($"Forbidden: acts for agent {own}, not {agentId}");
        }

        var max = limits.Value.DesktopConnectionsPerAgent;
        if (relay.AgentOf(Context.ConnectionId) != agentId && relay.ConnectionsOf(agentId, except: Context.ConnectionId) >= max)
        {
            var detail = $"Too many desktop connections: agent {agentId} has {max} signed in on this silo already, the most it may";
            audit.Record(Context.GetHttpContext(), Context.User, AuditActions.AccessRefused, agentId, AuditOutcomes.Refused,
                detail: $"/hubs/agent SignIn: {detail}");
            throw new HubException(detail);
        }

        var view = await relay.ConnectAsync(agentId, Context.ConnectionId) ?? throw new HubException($"Agent '{agentId}' does not exist.");
        HubLog.SignedIn(logger, agentId, Context.ConnectionId);
        audit.Record(Context.GetHttpContext(), Context.User, AuditActions.DesktopSignedIn, agentId, AuditOutcomes.Succeeded);
        return view;
    }

    public async Task<HubResult> SetState(string state, string? reason)
    {
        if (!WireNames<AgentState>.TryParse(state, out var target))
        {
            throw new HubException("state: must be one of ready, not-ready, logged-out");
        }

        if (reason is { Length: > 64 })
        {
            throw new HubException("reason: at most 64 characters");
        }

        var agentId = AgentId();
        var answer = await grains.Agent(agentId).SetStateAsync(target, reason);
        audit.Record(Context.GetHttpContext(), Context.User, AuditActions.AgentStateChanged, agentId, Audit.AuditTrail.OutcomeOf(answer.Outcome),
            detail: answer.Outcome.Detail, after: new Api.Contracts.AgentStateChange(target, answer.View?.Reason ?? reason));
        return HubResult.From(answer);
    }

    public async Task<HubResult> Accept(string sessionId) => HubResult.From(await Agent().AcceptAsync(Session(sessionId)));

    public async Task<HubResult> Reject(string sessionId) => HubResult.From(await Agent().RejectAsync(Session(sessionId)));

    public async Task<HubResult> End(string sessionId) => HubResult.From(await Agent().EndAsync(Session(sessionId)));

    public async Task<HubResult> WrapUpDone(string sessionId) => HubResult.From(await Agent().WrapUpDoneAsync(Session(sessionId)));

    public async Task<AgentView?> GetAgent() => await Agent().GetAsync();

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        var agentId = relay.AgentOf(Context.ConnectionId);
        HubLog.Disconnected(logger, agentId, Context.ConnectionId);
        if (agentId is not null)
        {
            audit.Record(Context.GetHttpContext(), Context.User, AuditActions.DesktopSignedOut, agentId, AuditOutcomes.Succeeded);
        }

        await relay.DisconnectAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    private IAgentGrain Agent() => grains.Agent(AgentId());

    private string AgentId() => relay.AgentOf(Context.ConnectionId) ?? throw new HubException("Sign in first.");

    private static string Session(string sessionId) =>
        Ids.Problem(sessionId ?? string.Empty) is { } problem ? throw new HubException($"sessionId: {problem}") : sessionId!;
}
