using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>Says at start which profile the silo runs with, and warns loudly when nothing it holds is durable.</summary>
internal sealed class ClusterProfileNotice(ClusterProfile profile, ILogger<ClusterProfileNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var tls = profile.Tls is { } t
            ? $"on (certificate {t.Certificate.Subject}, valid until {t.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}; authority {t.Authority.Subject})"
            : "off";
        logger.SiloProfile(profile.Clustering, profile.SiloPort, profile.GatewayPort, profile.PrimarySiloPort, tls);
        if (profile.Storage == ClusterProfile.Memory)
        {
            logger.MemoryStorage(RoutingGrainsServiceCollectionExtensions.StorageName, profile.Storage);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
