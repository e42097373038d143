namespace RoutingCluster.Abstractions.Audit;

/// <summary>Who did something: the token's <c>sub</c> and roles, and the gateway (<c>client_id</c>) or agent
/// (<c>agent_id</c>) it acts for. Never a customer.</summary>
public sealed record AuditActor(string? Subject, IReadOnlyList<string> Roles, string? ClientId, string? AgentId)
{
    /// <summary>A caller without a valid token.</summary>
    public static AuditActor Anonymous { get; } = new(null, [], null, null);
}

/// <summary>
/// One append-only record of the audit log: who (<see cref="Actor"/>), from where (<see cref="RemoteAddress"/>), when
/// (<see cref="At"/>), what (<see cref="Action"/> on <see cref="TargetId"/> with <see cref="Outcome"/>; for a
/// configuration change the configuration <see cref="Before"/> and <see cref="After"/>, as JSON), and the request's
/// <see cref="TraceId"/>. A record never holds a customer's id, age or attributes: targets are queue, agent and
/// session ids, and details are the cluster's own words.
/// </summary>
/// <param name="Id">The log's sequence number (0 until the log has stored the record); newer records have larger ids.</param>
/// <param name="Forced">An agent state set by a supervisor in the agent's place.</param>
/// <param name="Detail">Why an action was refused or failed (the problem's detail), or the state's reason.</param>
public sealed record AuditRecord(
    long Id,
    DateTimeOffset At,
    AuditActor Actor,
    string? RemoteAddress,
    string Action,
    string? TargetId,
    string Outcome,
    bool Forced = false,
    string? Detail = null,
    string? Before = null,
    string? After = null,
    string? TraceId = null);

/// <summary>What <see cref="IAuditLog.QueryAsync"/> lists: records with <c>From &lt;= at &lt; To</c>, by an actor (its
/// <c>sub</c>, <c>client_id</c> or <c>agent_id</c>), of an action and on a target where given; newest first, at most
/// <see cref="Limit"/>.</summary>
public sealed record AuditQuery(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Actor = null,
    string? Action = null,
    string? TargetId = null,
    int Limit = AuditQuery.DefaultLimit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1_000;

    /// <summary>Whether <paramref name="record"/> is one this query lists (the limit aside).</summary>
    public bool Matches(AuditRecord record) =>
        (From is null || record.At >= From)
        && (To is null || record.At < To)
        && (Actor is null || record.Actor.Subject == Actor || record.Actor.ClientId == Actor || record.Actor.AgentId == Actor)
        && (Action is null || record.Action == Action)
        && (TargetId is null || record.TargetId == TargetId);
}

/// <summary>The audit log: append-only, read by auditors. In PostgreSQL (<c>routing_audit</c>, insert and read only)
/// or, in the embedded profile, a bounded log in the silo's memory.</summary>
public interface IAuditLog
{
    /// <summary>Stores <paramref name="record"/>; completes once it is durable (committed), fails when it could not be
    /// written.</summary>
    Task AppendAsync(AuditRecord record, CancellationToken cancellationToken = default);

    /// <summary>The records <paramref name="query"/> asks for, newest first.</summary>
    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>The actions the audit log records (the record's <c>action</c>).</summary>
public static class AuditActions
{
    /// <summary><c>PUT /v1/queues/{id}</c>: a queue created or reconfigured.</summary>
    public const string QueueConfigured = "queue.configured";

    /// <summary><c>PUT /v1/agents/{id}</c>: an agent's profile created or replaced.</summary>
    public const string AgentConfigured = "agent.configured";

    /// <summary><c>PUT /v1/agents/{id}/queues</c>: an agent moved between queues live.</summary>
    public const string AgentMoved = "agent.moved";

    /// <summary>An agent's state set, by the agent or (forced) by a supervisor, over HTTP or the desktop hub.</summary>
    public const string AgentStateChanged = "agent.state-changed";

    /// <summary>A desktop signed in on <c>/hubs/agent</c>.</summary>
    public const string DesktopSignedIn = "desktop.signed-in";

    /// <summary>A signed-in desktop's connection ended.</summary>
    public const string DesktopSignedOut = "desktop.signed-out";

    /// <summary><c>POST /v1/sessions/{id}/transfer</c>.</summary>
    public const string SessionTransferred = "session.transferred";

    /// <summary>A request refused for its token: 401 (missing, expired, invalid) or 403 (a role or agent it lacks).</summary>
    public const string AccessRefused = "access.refused";

    public static IReadOnlyList<string> All { get; } =
        [QueueConfigured, AgentConfigured, AgentMoved, AgentStateChanged, DesktopSignedIn, DesktopSignedOut, SessionTransferred, AccessRefused];
}

/// <summary>How an audited action ended (the record's <c>outcome</c>).</summary>
public static class AuditOutcomes
{
    public const string Succeeded = "succeeded";

    /// <summary>Refused for the caller's token (401, 403).</summary>
    public const string Refused = "refused";

    /// <summary>Refused for the request: 400, 404, 409.</summary>
    public const string Rejected = "rejected";

    /// <summary>Not done for a fault (the cluster or database unavailable).</summary>
    public const string Failed = "failed";
}
