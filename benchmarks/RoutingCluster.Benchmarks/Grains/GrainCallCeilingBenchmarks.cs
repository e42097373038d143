using BenchmarkDotNet.Attributes;

namespace RoutingCluster.Benchmarks.Grains;

/// <summary>
/// The ceiling every routing figure is read against: a grain call that does nothing (<see cref="IPingGrain"/>), in
/// the same silo setup as the routing benchmarks. From the silo's co-hosted client (as the host's HTTP handlers call)
/// and from another grain (as the routing grains call each other); one at a time (latency) and 2,000 in flight
/// (throughput: calls/s = 1 / the mean per call).
/// </summary>
[MemoryDiagnoser]
public class GrainCallCeilingBenchmarks
{
    public const int InFlight = 2_000;
    public const int CallsEach = 50;
    public const int Batch = InFlight * CallsEach;
    public const int SequentialBatch = 1_000;

    private BenchSilo _silo = null!;
    private IPingGrain[] _pings = null!;
    private IPingCallerGrain[] _callers = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One call from the client, awaited: latency.</summary>
    [Benchmark]
    public Task Ping_FromClient() => _pings[0].PingAsync();

    /// <summary>100,000 calls from the client, 2,000 in flight (each of 2,000 callers awaits its own grain 50 times).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public Task Ping_FromClient_2000InFlight() => Task.WhenAll(_pings.Select(async ping =>
    {
        for (var i = 0; i < CallsEach; i++)
        {
            await ping.PingAsync();
        }
    }));

    /// <summary>One grain calling another, awaited each time: latency (1,000 calls per client call).</summary>
    [Benchmark(OperationsPerInvoke = SequentialBatch)]
    public Task Ping_FromGrain() => _callers[0].CallAsync(0, SequentialBatch);

    /// <summary>100,000 grain-to-grain calls, 2,000 in flight (2,000 caller grains, 50 calls each).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public Task Ping_FromGrain_2000InFlight() => Task.WhenAll(_callers.Select((caller, i) => caller.CallAsync(i, CallsEach)));

    private async Task SetupAsync()
    {
        _silo = await BenchSilo.StartAsync();
        _pings = [.. Enumerable.Range(0, InFlight).Select(i => _silo.Grains.GetGrain<IPingGrain>(i))];
        _callers = [.. Enumerable.Range(0, InFlight).Select(i => _silo.Grains.GetGrain<IPingCallerGrain>(i))];

        // Activate every grain before measuring.
        await Task.WhenAll(_pings.Select(p => p.PingAsync()));
        await Task.WhenAll(_callers.Select((c, i) => c.CallAsync(i, 1)));
    }
}
