using BenchmarkDotNet.Attributes;

namespace RoutingCluster.Benchmarks.Grains;

/// <summary>
/// create → offered through the grains: from <c>ISessionGrain.CreateAsync</c> until the offer reaches the agent's
/// desktop (the agent grain has reserved the capacity, written it, told the session, and pushes the offer to its
/// desktop relay, here <see cref="OfferWatcher"/>). Agents are ready in the queue; each call offers to a different
/// one (256 per iteration out of 300), and every iteration's offers are finished (accept, end, wrap-up done) in the
/// iteration cleanup, outside the measurement. Memory storage, one silo, in the benchmark process.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(OffersPerIteration, 1)]
public class CreateToOfferBenchmarks
{
    public const int OffersPerIteration = 256;
    public const int ReadyAgents = 300;
    private const string Queue = "bench-offer";

    private readonly List<(string Agent, string Session)> _offered = new(OffersPerIteration);
    private BenchSilo _silo = null!;
    private long _next;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The offers of the iteration are finished: the agents are ready again for the next one.</summary>
    [IterationCleanup]
    public void FinishOffers() => FinishAsync().GetAwaiter().GetResult();

    [Benchmark]
    public async Task CreateToOffered()
    {
        var session = $"offer-{Interlocked.Increment(ref _next):D8}";
        var agent = await _silo.CreateUntilOfferedAsync(Queue, session);
        _offered.Add((agent, session));
    }

    private async Task SetupAsync()
    {
        _silo = await BenchSilo.StartAsync();
        await _silo.QueueAsync(Queue);
        await _silo.AgentsAsync(Queue, "offer-agent-", ReadyAgents);

        // Warm up the code paths (JIT, activations of the statistics grains) before BenchmarkDotNet's own warm-up.
        for (var i = 0; i < 200; i++)
        {
            await CreateToOffered();
        }

        await FinishAsync();
    }

    private async Task FinishAsync()
    {
        await BenchSilo.ForEachAsync(_offered, 16, o => _silo.FinishAsync(o.Agent, o.Session));
        _offered.Clear();
        await _silo.SettleAsync();
    }
}

/// <summary>
/// One session's whole life through the grains per operation: create, offered (the desktop has it), accept, end,
/// wrap-up done (the agent is ready again). <see cref="Lifecycle"/>: one at a time with one agent (latency).
/// <see cref="Lifecycle_64Concurrent"/>: 64 sessions in flight over 64 agents of one queue (throughput: lifecycles/s =
/// 1 / the mean per operation). Memory storage, one silo, in the benchmark process.
/// </summary>
[MemoryDiagnoser]
public class SessionLifecycleBenchmarks
{
    public const int Workers = 64;
    public const int LifecyclesEach = 8;
    private const string SoloQueue = "bench-solo";
    private const string SharedQueue = "bench-shared";

    private BenchSilo _silo = null!;
    private long _next;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public async Task Lifecycle()
    {
        var session = NextId();
        var agent = await _silo.CreateUntilOfferedAsync(SoloQueue, session);
        await _silo.FinishAsync(agent, session);
    }

    [Benchmark(OperationsPerInvoke = Workers * LifecyclesEach)]
    public Task Lifecycle_64Concurrent() => RunConcurrentAsync(Workers, LifecyclesEach);

    public async Task RunConcurrentAsync(int workers, int each) => await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
    {
        for (var i = 0; i < each; i++)
        {
            var session = NextId();
            var agent = await _silo.CreateUntilOfferedAsync(SharedQueue, session);
            await _silo.FinishAsync(agent, session);
        }
    }));

    private string NextId() => $"life-{Interlocked.Increment(ref _next):D8}";

    private async Task SetupAsync()
    {
        _silo = await BenchSilo.StartAsync();
        await _silo.QueueAsync(SoloQueue);
        await _silo.QueueAsync(SharedQueue);
        await _silo.AgentsAsync(SoloQueue, "solo-agent-", 1);
        await _silo.AgentsAsync(SharedQueue, "shared-agent-", Workers);
        for (var i = 0; i < 200; i++)
        {
            await Lifecycle();
        }

        await RunConcurrentAsync(Workers, 4);
        await _silo.SettleAsync();
    }
}
