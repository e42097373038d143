namespace RoutingCluster.SiloHost.Hubs;

internal static partial class HubLog
{
    [LoggerMessage(EventId = LogEventIds.DesktopRenewFailed, Level = LogLevel.Warning, Message = "Renewing the desktop registration of agent {AgentId} failed; it is retried")]
    public static partial void RenewFailed(ILogger logger, Exception exception, string agentId);

    [LoggerMessage(EventId = LogEventIds.DesktopSignedIn, Level = LogLevel.Information, Message = "Agent {AgentId} signed in on connection {ConnectionId}")]
    public static partial void SignedIn(ILogger logger, string agentId, string connectionId);

    [LoggerMessage(EventId = LogEventIds.DesktopDisconnected, Level = LogLevel.Information, Message = "Desktop connection {ConnectionId} of agent {AgentId} closed")]
    public static partial void Disconnected(ILogger logger, string? agentId, string connectionId);

    [LoggerMessage(EventId = LogEventIds.DesktopRegisterAgainFailed, Level = LogLevel.Warning, Message = "Registering the desktops of agent {AgentId} again after its grain deactivated failed; the periodic renewal retries")]
    public static partial void RegisterAgainFailed(ILogger logger, Exception exception, string agentId);

    [LoggerMessage(EventId = LogEventIds.SiloDeclaredDead, Level = LogLevel.Warning, Message = "Silo {Silos} was declared dead: registering this silo's {Connections} desktop connection(s) again with their agents' grains")]
    public static partial void SiloDeclaredDead(ILogger logger, string silos, int connections);

    [LoggerMessage(EventId = LogEventIds.DesktopsRegisteredAgain, Level = LogLevel.Information, Message = "Registered {Connections} desktop connection(s) again after a silo death in {ElapsedMs} ms ({Rounds} round(s))")]
    public static partial void RegisteredAllAgain(ILogger logger, int connections, int rounds, long elapsedMs);

    [LoggerMessage(EventId = LogEventIds.DesktopsRegisterAgainRetrying, Level = LogLevel.Warning, Message = "Registering {Failed} of {Connections} desktop connection(s) again after a silo death failed in round {Round}; they are tried again shortly")]
    public static partial void RegisterAllAgainRetrying(ILogger logger, Exception exception, int failed, int connections, int round);

    [LoggerMessage(EventId = LogEventIds.DesktopsRegisterAgainFailed, Level = LogLevel.Warning, Message = "Registering {Failed} of {Connections} desktop connection(s) again after a silo death still failed after {Rounds} rounds; they are tried again at the next silo death or periodic renewal")]
    public static partial void RegisterAllAgainFailed(ILogger logger, Exception exception, int failed, int connections, int rounds);

    [LoggerMessage(EventId = LogEventIds.MembershipWatchFailed, Level = LogLevel.Error, Message = "Following the cluster membership failed; following it again (the periodic renewal still runs)")]
    public static partial void MembershipWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = LogEventIds.DesktopsRegisterAgainBroke, Level = LogLevel.Error, Message = "Registering the desktop connections again after a silo death failed; they are tried again at the next silo death or periodic renewal")]
    public static partial void RegisterAllAgainBroke(ILogger logger, Exception exception);
}
