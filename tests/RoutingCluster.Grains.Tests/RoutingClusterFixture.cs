using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Tests;

/// <summary>
/// An in-process cluster of two silos with memory storage, running on one fake routing clock shared by both
/// silos: tests move time forward and wait for the cluster to go quiet, never sleep.
/// </summary>
public sealed class RoutingClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var time = Time;
        builder.ConfigureSilo((_, silo) =>
        {
            // As the silo host's memory profile (AddRoutingMemoryStorage): states kept in Orleans' binary form. The
            // routing grains' storage takes the faults a test asks for (StorageFaults).
            foreach (var name in new[] { "routing-memory", RoutingGrainsServiceCollectionExtensions.SessionStorageName, "PubSubStore" })
            {
                silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
            }

            silo.Services.AddKeyedSingleton<IGrainStorage>(RoutingGrainsServiceCollectionExtensions.StorageName, (services, _) =>
                new FaultInjectingGrainStorage(services.GetRequiredKeyedService<IGrainStorage>("routing-memory")));

            silo.AddMemoryStreams(RoutingCluster.Abstractions.Events.RoutingStreams.Provider);
            silo.Services.AddRoutingGrains(time);
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(RoutingCluster.Abstractions.Events.RoutingStreams.Provider));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Waits until no silo has routing work in flight (offer attempts, wake-ups, notifications).</summary>
    public async Task SettleAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var quietRounds = 0;
        while (quietRounds < 3)
        {
            if (DateTime.UtcNow > deadline)
            {
                var running = Cluster.Silos.SelectMany(s => s.ServiceProvider.GetRequiredService<WorkTracker>().Running);
                throw new TimeoutException("The cluster did not settle within 30 s. Running: " + string.Join("; ", running));
            }

            var trackers = Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<WorkTracker>()).ToList();
            if (trackers.All(t => t.InFlight == 0))
            {
                quietRounds++;
                await Task.Delay(2);
            }
            else
            {
                quietRounds = 0;
                var left = deadline - DateTime.UtcNow;
                await Task.WhenAny(Task.WhenAll(trackers.Select(t => t.WhenIdleAsync())), Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero));
            }
        }
    }

    /// <summary>Moves routing time forward in one-second steps (so timers fire at their own second) and settles.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        var step = TimeSpan.FromSeconds(1);
        while (by > TimeSpan.Zero)
        {
            var d = by < step ? by : step;
            Time.Advance(d);
            by -= d;
            await SettleAsync();
        }
    }

    public IQueueGrain Queue(string id) => Grains.GetGrain<IQueueGrain>(id);

    public IAgentGrain Agent(string id) => Grains.GetGrain<IAgentGrain>(id);

    public ISessionGrain Session(string id) => Grains.GetGrain<ISessionGrain>(id);
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<RoutingClusterFixture>
{
    public const string Name = "cluster";
}
