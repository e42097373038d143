namespace RoutingCluster.SiloHost.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(EventId = LogEventIds.MemoryStorage, Level = LogLevel.Warning,
        Message = "Grain storage '{StorageName}' is in MEMORY (Storage:Provider={Provider}): sessions, agents and queues are NOT durable and are lost when this silo stops")]
    public static partial void MemoryStorage(this ILogger logger, string storageName, string provider);

    [LoggerMessage(EventId = LogEventIds.SiloProfile, Level = LogLevel.Information,
        Message = "Silo starting: clustering {Clustering}, silo port {SiloPort}, gateway port {GatewayPort}, primary silo port {PrimarySiloPort}, silo TLS {SiloTls}")]
    public static partial void SiloProfile(this ILogger logger, string clustering, int siloPort, int gatewayPort, int? primarySiloPort, string siloTls);
}
