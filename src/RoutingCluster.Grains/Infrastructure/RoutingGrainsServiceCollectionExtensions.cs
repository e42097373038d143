using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.Grains.Infrastructure;

public static class RoutingGrainsServiceCollectionExtensions
{
    /// <summary>The name of the grain storage every routing grain uses.</summary>
    public const string StorageName = "routing";

    /// <summary>The grain storage of session grains: with PostgreSQL, a table with one row per session whose
    /// columns (queue, state, times) are also the durable session record that recovery and analysts query.</summary>
    public const string SessionStorageName = "sessions";

    /// <summary>Registers what the routing grains need: the routing clock (system time unless one was
    /// registered before), the background-work tracker, the grain references (<see cref="RoutingGrains"/>) and the routing metrics (with the meter factory they
    /// are created by).</summary>
    public static IServiceCollection AddRoutingGrains(this IServiceCollection services, TimeProvider? time = null)
    {
        services.TryAddSingleton(new RoutingClock(time ?? TimeProvider.System));
        services.TryAddSingleton<WorkTracker>();
        services.TryAddSingleton<RoutingGrains>();
        services.TryAddSingleton<ISessionIndex, NoSessionIndex>();
        services.AddMetrics();
        services.TryAddSingleton<RoutingMetrics>();
        services.TryAddSingleton<EventDrops>();

        // Live statistics: each silo's collector flushes to the statistics grains, which keep their intervals in
        // the stats store (memory unless a database store was registered before).
        services.AddOptions<Metrics.StatsOptions>();
        services.TryAddSingleton<Metrics.IStatsStore, Metrics.MemoryStatsStore>();
        services.TryAddSingleton<Metrics.StatsReader>();
        services.TryAddSingleton<Metrics.UnwrittenStats>();
        if (!services.Any(d => d.ServiceType == typeof(Metrics.KpiCollector)))
        {
            services.AddSingleton<Metrics.KpiCollector>();
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(s => s.GetRequiredService<Metrics.KpiCollector>());
        }

        return services;
    }
}
