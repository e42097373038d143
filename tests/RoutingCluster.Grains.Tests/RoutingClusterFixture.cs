using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
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
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan> s_offerDelays = new(StringComparer.Ordinal);

    /// <summary>The next offer to this session reaches it only after the virtual clock moved on by <paramref name="delay"/>.</summary>
    public static void DelayOfferTo(string sessionId, TimeSpan delay) => s_offerDelays[sessionId] = delay;

    private static volatile bool s_refuseEvents;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> s_calls = new(StringComparer.Ordinal);

    /// <summary>Calls of <paramref name="method"/> (its name as the interface declares it) that the grain with key
    /// <paramref name="grainKey"/> received so far.</summary>
    public static long CallsOf(string method, string grainKey) => s_calls.GetValueOrDefault(method + " " + grainKey);

    /// <summary>
    /// Until the result is disposed, every push of a session to its followers fails on its way out of the silo: the
    /// overload (or loss) of a follower, made to happen on demand.
    /// </summary>
    public static IDisposable RefuseEvents()
    {
        s_refuseEvents = true;
        return new Restore(() => s_refuseEvents = false);
    }

    /// <summary>What the durable session records say waits in each queue, as a test sets it (memory storage keeps none).</summary>
    public static TestSessionIndex RecordedQueues { get; } = new();

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
            foreach (var name in new[] { "routing-memory", RoutingGrainsServiceCollectionExtensions.SessionStorageName })
            {
                silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
            }

            silo.Services.AddKeyedSingleton<IGrainStorage>(RoutingGrainsServiceCollectionExtensions.StorageName, (services, _) =>
                new FaultInjectingGrainStorage(services.GetRequiredKeyedService<IGrainStorage>("routing-memory")));

            silo.Services.AddSingleton<ISessionIndex>(RecordedQueues);
            silo.Services.AddRoutingGrains(time);
            silo.AddIncomingGrainCallFilter(async call =>
            {
                if (call.InterfaceMethod?.Name is { } method)
                {
                    s_calls.AddOrUpdate(method + " " + call.TargetId.Key, 1, (_, n) => n + 1);
                }

                // A slow link, in virtual time: the offer reaches the session only after the clock moved on.
                if (call.InterfaceMethod?.Name == nameof(ISessionGrain.OfferAsync)
                    && s_offerDelays.TryRemove(call.TargetId.Key.ToString()!, out var delay))
                {
                    time.Advance(delay);
                }

                await call.Invoke();
            });
            silo.AddOutgoingGrainCallFilter(async call =>
            {
                // A follower that refuses every push (its silo overloaded or gone): the session must not mind.
                if (s_refuseEvents && call.InterfaceMethod?.DeclaringType == typeof(ISessionFollower))
                {
                    throw new InvalidOperationException("The follower refused the event.");
                }

                await call.Invoke();
            });
        });
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
        var quietChecks = 0;
        while (quietChecks < 3)
        {
            if (DateTime.UtcNow > deadline)
            {
                var running = Cluster.Silos.SelectMany(s => s.ServiceProvider.GetRequiredService<WorkTracker>().Running);
                throw new TimeoutException("The cluster did not settle within 30 s. Running: " + string.Join("; ", running));
            }

            var trackers = Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<WorkTracker>()).ToList();
            if (trackers.All(t => t.InFlight == 0))
            {
                quietChecks++;
                await Task.Delay(2);
            }
            else
            {
                quietChecks = 0;
                var left = deadline - DateTime.UtcNow;
                await Task.WhenAny(Task.WhenAll(trackers.Select(t => t.WhenIdleAsync())), Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero));
            }
        }
    }

    /// <summary>
    /// Moves routing time forward in one-second steps (so timers fire at their own second) and settles after each.
    /// Once the first step has settled the cluster is quiet, so a later step that starts no routing work (no alarm
    /// rang, no statistics to hand over: every silo's tracker idle right after the clock moved) has nothing to wait
    /// for: only the routing clock's timers start routing work, and each counts itself before the clock moves on.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        var step = TimeSpan.FromSeconds(1);
        var first = true;
        while (by > TimeSpan.Zero)
        {
            var d = by < step ? by : step;
            Time.Advance(d);
            by -= d;
            if (first || !Idle())
            {
                await SettleAsync();
            }

            first = false;
        }
    }

    private bool Idle() => Cluster.Silos.All(s => s.ServiceProvider.GetRequiredService<WorkTracker>().InFlight == 0);

    public IQueueGrain Queue(string id) => Grains.GetGrain<IQueueGrain>(id);

    public IAgentGrain Agent(string id) => Grains.GetGrain<IAgentGrain>(id);

    public ISessionGrain Session(string id) => Grains.GetGrain<ISessionGrain>(id);
}

internal sealed class Restore(Action undo) : IDisposable
{
    public void Dispose() => undo();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<RoutingClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>An <see cref="ISessionIndex"/> whose "queued in the records" lists a test sets, standing in for the
/// PostgreSQL session table in these memory-storage tests.</summary>
public sealed class TestSessionIndex : ISessionIndex
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string[]> _queued = new(StringComparer.Ordinal);

    public void SetQueued(string queueId, params string[] sessionIds) => _queued[queueId] = sessionIds;

    public Task<IReadOnlyList<string>> QueuedSessionsAsync(string queueId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(_queued.GetValueOrDefault(queueId) ?? []);

    public Task<RecoveryPlan> RecoveryPlanAsync(CancellationToken cancellationToken = default) => Task.FromResult(RecoveryPlan.Empty);
}
