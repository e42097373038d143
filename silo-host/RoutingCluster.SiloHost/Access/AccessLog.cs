namespace RoutingCluster.SiloHost.Access;

/// <summary>Access decisions. They name the caller (<c>sub</c>, an agent or gateway id) and the route's pattern,
/// never a token, a query string or a customer.</summary>
internal static partial class AccessLog
{
    [LoggerMessage(EventId = LogEventIds.DevSigningKeyGenerated, Level = LogLevel.Warning,
        Message = "Auth:Mode is dev and Auth:Dev:SigningKey is not set: dev tokens are signed with a random key of this process, so they stop working when it restarts and other silos do not accept them")]
    public static partial void DevSigningKeyGenerated(ILogger logger);

    [LoggerMessage(EventId = LogEventIds.AccessRefused, Level = LogLevel.Information,
        Message = "Refused {Method} {Route} to {Subject}: {Reason}")]
    public static partial void AccessRefused(ILogger logger, string method, string route, string? subject, string reason);

    [LoggerMessage(EventId = LogEventIds.RateLimited, Level = LogLevel.Debug,
        Message = "Rate limit of {Partition} exceeded on {Method} {Route}")]
    public static partial void RateLimited(ILogger logger, string partition, string method, string route);

    [LoggerMessage(EventId = LogEventIds.DevTokenIssued, Level = LogLevel.Information,
        Message = "Issued a dev token to {Subject} with roles {Roles}")]
    public static partial void DevTokenIssued(ILogger logger, string subject, string roles);

    [LoggerMessage(EventId = LogEventIds.HubSignInRefused, Level = LogLevel.Information,
        Message = "Refused the desktop sign-in of agent {AgentId} on connection {ConnectionId}: the token acts for agent {TokenAgentId}")]
    public static partial void HubSignInRefused(ILogger logger, string agentId, string connectionId, string? tokenAgentId);

    [LoggerMessage(EventId = LogEventIds.AuditRecordLost, Level = LogLevel.Error,
        Message = "Audit log: a {Action} record on {TargetId} by {Subject} could not be written")]
    public static partial void AuditRecordLost(ILogger logger, Exception? exception, string action, string? targetId, string? subject);

    [LoggerMessage(EventId = LogEventIds.ConfigurationRefusedWithoutAudit, Level = LogLevel.Error,
        Message = "Refused a {Action} of {TargetId}: its audit record could not be written")]
    public static partial void ConfigurationRefusedWithoutAudit(ILogger logger, Exception exception, string action, string targetId);
}
