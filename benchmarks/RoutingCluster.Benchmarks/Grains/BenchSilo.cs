using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.Benchmarks.Grains;

/// <summary>
/// One silo in the benchmark process, set up as the silo host sets up its memory profile: memory grain storage for
/// "routing" and "sessions" in Orleans' binary form (<see cref="SiloProfileExtensions.AddRoutingMemoryStorage"/>), no stream provider (as the host: sessions push to their followers, agents to their desktops), the routing grains with the system
/// clock, and the KPI collector. Calls come from the silo's own (co-hosted) client, as the host's HTTP handlers make
/// them: no gateway, no network. Logging is off (no providers), so no figure includes console output.
/// </summary>
public sealed class BenchSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private BenchSilo(IHost host, CallCounter? calls, StorageCounter? writes)
    {
        _host = host;
        Calls = calls;
        Writes = writes;
        Grains = host.Services.GetRequiredService<IGrainFactory>();
        Tracker = host.Services.GetRequiredService<WorkTracker>();
        EventDrops = host.Services.GetRequiredService<EventDrops>();
        Watcher = new OfferWatcher();
        WatcherReference = Grains.CreateObjectReference<IAgentDesktopObserver>(Watcher);
    }

    public IGrainFactory Grains { get; }

    /// <summary>The silo's services (Orleans' type resolvers, for the benchmarks that measure them).</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>Grain calls received by the silo, by interface and method (only when started with counting).</summary>
    public CallCounter? Calls { get; }

    /// <summary>Grain storage operations, by storage name (only when started with counting).</summary>
    public StorageCounter? Writes { get; }

    public WorkTracker Tracker { get; }

    /// <summary>Events a session's follower did not take, and the grains dropped.</summary>
    public EventDrops EventDrops { get; }

    /// <summary>The "desktop" of every agent the benchmark signs in: completes when an offer reaches it.</summary>
    public OfferWatcher Watcher { get; }

    /// <summary>The reference agent grains push to (give it to <c>DesktopConnectedAsync</c>).</summary>
    public IAgentDesktopObserver WatcherReference { get; }

    /// <param name="count">Count grain calls and storage operations (a filter on every call: leave off for timings).</param>
    /// <param name="countStorage">Count storage operations only (a counter beside each write: cheap enough for timings).</param>
    public static async Task<BenchSilo> StartAsync(bool count = false, bool countStorage = false)
    {
        var calls = count ? new CallCounter() : null;
        var writes = count || countStorage ? new StorageCounter() : null;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(FreePort(), FreePort());
            if (writes is null)
            {
                silo.AddRoutingMemoryStorage(RoutingGrainsServiceCollectionExtensions.StorageName);
                silo.AddRoutingMemoryStorage(RoutingGrainsServiceCollectionExtensions.SessionStorageName);
            }
            else
            {
                foreach (var name in new[] { RoutingGrainsServiceCollectionExtensions.StorageName, RoutingGrainsServiceCollectionExtensions.SessionStorageName })
                {
                    silo.AddRoutingMemoryStorage(name + "-inner");
                    silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
                        new CountingGrainStorage(name, services.GetRequiredKeyedService<IGrainStorage>(name + "-inner"), writes));
                }
            }

            if (calls is not null)
            {
                silo.AddIncomingGrainCallFilter(context =>
                {
                    calls.Count(context.InterfaceName, context.MethodName);
                    return context.Invoke();
                });
            }
        });
        builder.Services.AddRoutingGrains();
        var host = builder.Build();
        await host.StartAsync();
        return new BenchSilo(host, calls, writes);
    }

    public IQueueGrain Queue(string id) => Grains.GetGrain<IQueueGrain>(id);

    public IAgentGrain Agent(string id) => Grains.GetGrain<IAgentGrain>(id);

    public ISessionGrain Session(string id) => Grains.GetGrain<ISessionGrain>(id);

    /// <summary>A queue with the default policy, except a queue length and an offer timeout that the benchmarks do
    /// not reach (offers are answered by the benchmark, not by a person).</summary>
    public async Task<string> QueueAsync(string id, int maxWaiting = 1_000_000)
    {
        await Queue(id).PutAsync(new QueueConfig
        {
            Id = id,
            Name = id,
            Policy = QueuePolicy.Default with { MaxWaiting = maxWaiting, OfferTimeoutSeconds = 3_600, MaxWaitSeconds = 86_400 },
        });
        return id;
    }

    /// <summary>Agents serving <paramref name="queue"/> with the default capacities, each with a desktop connected to
    /// <see cref="Watcher"/>, signed in ready (or not ready).</summary>
    public async Task<string[]> AgentsAsync(string queue, string prefix, int count, bool ready = true, int parallel = 64)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"{prefix}{i:D6}").ToArray();
        await ForEachAsync(ids, parallel, async id =>
        {
            var agent = Agent(id);
            await agent.PutProfileAsync(new AgentProfile { Name = id, Queues = [queue], Skills = new Dictionary<string, int> { ["cards"] = 3 } });
            await agent.DesktopConnectedAsync("bench-" + id, WatcherReference);
            await agent.SetStateAsync(ready ? AgentState.Ready : AgentState.NotReady, ready ? null : "bench");
        });
        await SettleAsync();
        return ids;
    }

    public static NewSession NewSession(string queue, string id) => new()
    {
        QueueId = queue,
        Channel = Channel.Voice,
        Customer = new Customer("c-" + id, 45, []),
        Skills = new Dictionary<string, int> { ["cards"] = 2 },
        Fingerprint = id,
    };

    /// <summary>Creates a session and waits until its offer reaches an agent's desktop. Returns the agent.</summary>
    public async Task<string> CreateUntilOfferedAsync(string queue, string sessionId)
    {
        var offered = Watcher.Expect(sessionId);
        var result = await Session(sessionId).CreateAsync(NewSession(queue, sessionId));
        if (result.Status != CreateStatus.Created)
        {
            throw new InvalidOperationException($"create {sessionId}: {result.Status} {result.Detail}");
        }

        return await offered;
    }

    /// <summary>The agent's part of a session after the offer: accept, end, wrap-up done (the agent is ready again).</summary>
    public async Task FinishAsync(string agentId, string sessionId)
    {
        var agent = Agent(agentId);
        Check(await agent.AcceptAsync(sessionId), "accept", sessionId);
        Check(await agent.EndAsync(sessionId), "end", sessionId);
        Check(await agent.WrapUpDoneAsync(sessionId), "wrap-up done", sessionId);
    }

    /// <summary>Waits until no routing work runs beside the grains' turns (offer attempts, pushes, wake-ups).</summary>
    public async Task SettleAsync()
    {
        for (var quiet = 0; quiet < 3;)
        {
            if (Tracker.InFlight == 0)
            {
                quiet++;
                await Task.Delay(2);
            }
            else
            {
                quiet = 0;
                await Tracker.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    public static async Task ForEachAsync<T>(IEnumerable<T> items, int parallel, Func<T, Task> action) =>
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (item, _) => await action(item));

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private static void Check(RoutingCluster.Abstractions.Common.Answer<AgentView> outcome, string what, string sessionId)
    {
        if (!outcome.IsOk)
        {
            throw new InvalidOperationException($"{what} {sessionId}: {outcome.Code} {outcome.Detail}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>An agent desktop as the benchmark sees it: the agent grain pushes each update here, as it pushes to the
/// silo host's SignalR relay. An offer completes the task that <see cref="Expect"/> returned for its session.</summary>
public sealed class OfferWatcher : IAgentDesktopObserver
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _expected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _expectedBy = new(StringComparer.Ordinal);
    private long _updates;

    /// <summary>Desktop pushes received (grain → client-object calls, which the silo's call filter does not see).</summary>
    public long Updates => Interlocked.Read(ref _updates);

    /// <summary>The benchmark's desktop stays registered with its own silo, which never stops during a run.</summary>
    public Task OnAgentDeactivatingAsync(string agentId) => Task.CompletedTask;

    /// <summary>The benchmark's agents answer every offer: one that expires anyway is held against the agent.</summary>
    public Task<DateTimeOffset?> OfferShownAtAsync(string agentId, string sessionId) => Task.FromResult<DateTimeOffset?>(DateTimeOffset.MinValue);

    public Task<string> Expect(string sessionId)
    {
        var offered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _expected[sessionId] = offered;
        return offered.Task;
    }

    /// <summary>Completes with the session of the next offer that reaches <paramref name="agentId"/>'s desktop.</summary>
    public Task<string> ExpectOfferTo(string agentId)
    {
        var offered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _expectedBy[agentId] = offered;
        return offered.Task;
    }

    public Task OnAgentUpdateAsync(AgentUpdate update)
    {
        Interlocked.Increment(ref _updates);
        if (update is { Type: AgentEventType.Offer, Offer: { } offer })
        {
            if (_expected.TryRemove(offer.SessionId, out var offered))
            {
                offered.TrySetResult(update.AgentId);
            }

            if (_expectedBy.TryRemove(update.AgentId, out var offeredTo))
            {
                offeredTo.TrySetResult(offer.SessionId);
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>Grain calls received, by "interface.method".</summary>
public sealed class CallCounter
{
    private readonly ConcurrentDictionary<string, long> _calls = new(StringComparer.Ordinal);

    public void Count(string interfaceName, string methodName) =>
        _calls.AddOrUpdate(interfaceName + "." + methodName, 1, (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_calls);
}

/// <summary>Grain storage operations, by "storage.operation".</summary>
public sealed class StorageCounter
{
    private readonly ConcurrentDictionary<string, long> _operations = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, long> _byState = new(StringComparer.Ordinal);

    public void Count(string what) => _operations.AddOrUpdate(what, 1, (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_operations);

    /// <summary>Writes of one state name ("routing/queue"), kept apart from <see cref="Snapshot"/>.</summary>
    public long StateWrites(string storageAndState) => _byState.GetValueOrDefault(storageAndState);

    public void CountStateWrite(string storageAndState) => _byState.AddOrUpdate(storageAndState, 1, (_, n) => n + 1);
}

/// <summary>Counts what reaches a grain storage, then lets the memory storage do it.</summary>
internal sealed class CountingGrainStorage(string name, IGrainStorage inner, StorageCounter counter) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        counter.Count(name + ".read");
        return inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        counter.Count(name + ".write");
        counter.CountStateWrite(name + "/" + stateName);
        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        counter.Count(name + ".clear");
        return inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
