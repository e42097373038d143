using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RoutingCluster.Grains.Infrastructure;

public static class RoutingGrainsServiceCollectionExtensions
{
    /// <summary>The name of the grain storage every routing grain uses.</summary>
    public const string StorageName = "routing";

    /// <summary>Registers what the routing grains need: the routing clock (system time unless one was
    /// registered before) and the background-work tracker.</summary>
    public static IServiceCollection AddRoutingGrains(this IServiceCollection services, TimeProvider? time = null)
    {
        services.TryAddSingleton(new RoutingClock(time ?? TimeProvider.System));
        services.TryAddSingleton<WorkTracker>();
        return services;
    }
}
