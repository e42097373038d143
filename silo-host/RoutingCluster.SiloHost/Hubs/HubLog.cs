namespace RoutingCluster.SiloHost.Hubs;

internal static partial class HubLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Renewing the desktop registration of agent {AgentId} failed; it is retried")]
    public static partial void RenewFailed(ILogger logger, Exception exception, string agentId);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Agent {AgentId} signed in on connection {ConnectionId}")]
    public static partial void SignedIn(ILogger logger, string agentId, string connectionId);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Desktop connection {ConnectionId} of agent {AgentId} closed")]
    public static partial void Disconnected(ILogger logger, string? agentId, string connectionId);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Registering the desktops of agent {AgentId} again after its grain deactivated failed; the periodic renewal retries")]
    public static partial void RegisterAgainFailed(ILogger logger, Exception exception, string agentId);
}
