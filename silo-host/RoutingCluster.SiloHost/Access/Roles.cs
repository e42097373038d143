using System.Security.Claims;

namespace RoutingCluster.SiloHost.Access;

/// <summary>The roles a token may carry (claim <c>roles</c>), after the job posts of the standard's annex 2.</summary>
public static class Roles
{
    /// <summary>A channel gateway: creates, reads, follows and abandons its own sessions.</summary>
    public const string Gateway = "gateway";

    /// <summary>An agent (座席代表): acts for the agent its token names (<c>agent_id</c>) only.</summary>
    public const string Agent = "agent";

    /// <summary>A supervisor (班长, 现场管理): watches agents, queues and figures; may force an agent not ready or logged out.</summary>
    public const string Supervisor = "supervisor";

    /// <summary>Quality management (质量管理): reads sessions and their explanations.</summary>
    public const string Support = "support";

    /// <summary>Data analysis (数据分析): live and historical figures.</summary>
    public const string Analyst = "analyst";

    /// <summary>System management (系统管理): queue and agent configuration.</summary>
    public const string Admin = "admin";

    /// <summary>Operations: metrics, the dashboard, health details.</summary>
    public const string Sre = "sre";

    /// <summary>Risk management (风险管理): the audit log.</summary>
    public const string Auditor = "auditor";

    public static IReadOnlyList<string> All { get; } = [Gateway, Agent, Supervisor, Support, Analyst, Admin, Sre, Auditor];
}

/// <summary>The claims the cluster reads from a token.</summary>
public static class AccessClaims
{
    public const string Subject = "sub";
    public const string Roles = "roles";
    public const string AgentId = "agent_id";
    public const string ClientId = "client_id";

    /// <summary>Who the token is for (<c>sub</c>).</summary>
    public static string? SubjectOf(ClaimsPrincipal user) => user.FindFirst(Subject)?.Value;

    /// <summary>The agent the token acts for (<c>agent_id</c>), or null.</summary>
    public static string? AgentIdOf(ClaimsPrincipal user) => user.FindFirst(AgentId)?.Value is { Length: > 0 } id ? id : null;

    /// <summary>The gateway the token is for: <c>client_id</c>, or <c>sub</c> when it has none.</summary>
    public static string? GatewayOf(ClaimsPrincipal user) =>
        user.FindFirst(ClientId)?.Value is { Length: > 0 } client ? client : user.FindFirst(Subject)?.Value;
}
