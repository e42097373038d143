using Microsoft.AspNetCore.Authorization;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// The authorization policies: one per line of the contract's table ("Access: who may do what"). Every endpoint names
/// one of them or is on the anonymous list (<see cref="RoutingAccess.AnonymousRoutes"/>).
/// </summary>
public static class AccessPolicies
{
    /// <summary><c>POST /v1/sessions</c>: gateway.</summary>
    public const string CreateSessions = "create-sessions";

    /// <summary><c>GET /v1/sessions/{id}</c> and its events: gateway (its own sessions), support, supervisor.</summary>
    public const string ReadSessions = "read-sessions";

    /// <summary><c>POST /v1/sessions/{id}/abandon</c> and <c>/callback</c>: gateway (its own sessions).</summary>
    public const string AbandonSessions = "abandon-sessions";

    /// <summary><c>POST /v1/sessions/{id}/transfer</c>: the agent holding the session, supervisor.</summary>
    public const string TransferSessions = "transfer-sessions";

    /// <summary><c>PUT /v1/agents/{id}</c> and <c>PUT /v1/queues/{id}</c>: admin.</summary>
    public const string Configure = "configure";

    /// <summary><c>GET /v1/agents/{id}</c>: the agent itself, supervisor, admin.</summary>
    public const string ReadAgents = "read-agents";

    /// <summary><c>POST /v1/agents/{id}/state</c>: the agent itself; a supervisor may set not-ready or logged-out.</summary>
    public const string SetAgentState = "set-agent-state";

    /// <summary>Accept, reject, end, wrap-up-done: the agent itself.</summary>
    public const string AgentItself = "agent-itself";

    /// <summary><c>GET /v1/queues/{id}</c>: admin, supervisor.</summary>
    public const string ReadQueues = "read-queues";

    /// <summary>A queue's agents and moving an agent between queues live (<c>GET /v1/queues/{id}/agents</c>,
    /// <c>PUT /v1/agents/{id}/queues</c>): supervisor, admin.</summary>
    public const string SuperviseAgents = "supervise-agents";

    /// <summary>Live and historical figures (queue stats, <c>/v1/stats</c>, alerts, staffing, the wallboard hub):
    /// supervisor, analyst.</summary>
    public const string ReadFigures = "read-figures";

    /// <summary><c>/hubs/agent</c>: an agent token with an <c>agent_id</c>; the connection acts for that agent only.</summary>
    public const string AgentDesktop = "agent-desktop";

    /// <summary><c>/metrics</c>, <c>/dashboard</c>: sre.</summary>
    public const string Operate = "operate";

    /// <summary><c>GET /v1/audit</c>: auditor.</summary>
    public const string ReadAudit = "read-audit";

    internal static void Add(AuthorizationOptions options)
    {
        Add(options, CreateSessions, AgentScope.None, Roles.Gateway);
        Add(options, ReadSessions, AgentScope.None, Roles.Gateway, Roles.Support, Roles.Supervisor);
        Add(options, AbandonSessions, AgentScope.None, Roles.Gateway);
        Add(options, TransferSessions, AgentScope.AnyAgent, Roles.Supervisor);
        Add(options, Configure, AgentScope.None, Roles.Admin);
        Add(options, ReadAgents, AgentScope.RouteAgent, Roles.Supervisor, Roles.Admin);
        Add(options, SetAgentState, AgentScope.RouteAgent, Roles.Supervisor);
        Add(options, AgentItself, AgentScope.RouteAgent);
        Add(options, ReadQueues, AgentScope.None, Roles.Admin, Roles.Supervisor);
        Add(options, SuperviseAgents, AgentScope.None, Roles.Supervisor, Roles.Admin);
        Add(options, ReadFigures, AgentScope.None, Roles.Supervisor, Roles.Analyst);
        Add(options, AgentDesktop, AgentScope.AnyAgent);
        Add(options, Operate, AgentScope.None, Roles.Sre);
        Add(options, ReadAudit, AgentScope.None, Roles.Auditor);
    }

    private static void Add(AuthorizationOptions options, string name, AgentScope agents, params string[] roles) =>
        options.AddPolicy(name, policy => policy
            .RequireAuthenticatedUser()
            .AddRequirements(new AccessRequirement(roles, agents)));
}
