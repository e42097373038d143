using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using RoutingCluster.Benchmarks.Grains;

namespace RoutingCluster.Benchmarks.Reports;

/// <summary>
/// <c>lifecycles</c>: whole session lifecycles (as <see cref="SessionLifecycleBenchmarks.Lifecycle_64Concurrent"/>:
/// <c>workers</c> sessions in flight over as many agents of one queue) for a fixed time, for profiling: run it under
/// <c>dotnet-trace collect</c> for a CPU profile. With <c>--queues N</c> the workers and agents are spread over N queues
/// (worker i uses queue i mod N): the same rate through one queue as through several says the one queue grain was not
/// what limited it. With <c>--alloc</c> it samples the runtime's allocation events
/// (one about every 100 KB allocated, with the type) and prints where the bytes go.
/// </summary>
internal static class LifecycleSoak
{
    public static async Task RunAsync(int workers, double seconds, int queues, bool alloc)
    {
        if (queues < 1 || queues > workers)
        {
            throw new ArgumentOutOfRangeException(nameof(queues), queues, "between 1 and the number of workers");
        }

        await using var silo = await BenchSilo.StartAsync();
        var queueIds = Enumerable.Range(0, queues).Select(q => queues == 1 ? "soak" : $"soak-{q}").ToArray();
        for (var q = 0; q < queues; q++)
        {
            await silo.QueueAsync(queueIds[q]);
            await silo.AgentsAsync(queueIds[q], $"soak-agent-{q}-", workers / queues + (q < workers % queues ? 1 : 0));
        }

        long next = 0;
        async Task<long> Run(TimeSpan length)
        {
            var until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
            long done = 0;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
            {
                var queue = queueIds[worker % queues];
                while (Stopwatch.GetTimestamp() < until)
                {
                    var id = $"soak-{Interlocked.Increment(ref next):D8}";
                    await silo.FinishAsync(await silo.CreateUntilOfferedAsync(queue, id), id);
                    Interlocked.Increment(ref done);
                }
            }));
            return done;
        }

        await Run(TimeSpan.FromSeconds(Math.Min(5, seconds / 2)));
        using var sampler = alloc ? new AllocationSampler() : null;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var gcs = GC.CollectionCount(0);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var dropped = silo.EventDrops.Total;
        var sw = Stopwatch.StartNew();
        var lifecycles = await Run(TimeSpan.FromSeconds(seconds));
        var elapsed = sw.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Console.WriteLine($"# lifecycles: {workers} in flight through {queues} queue{(queues == 1 ? "" : "s")}, {lifecycles:N0} in {elapsed:F1} s = {lifecycles / elapsed:F0}/s; "
            + $"CPU {cpuSeconds / lifecycles * 1e6:F0} µs per lifecycle ({cpuSeconds / elapsed:F2} of {Environment.ProcessorCount} cores); "
            + $"allocated {allocated / (double)lifecycles / 1024:F0} KiB per lifecycle; gen0 GCs {GC.CollectionCount(0) - gcs}; "
            + $"events dropped {silo.EventDrops.Total - dropped:N0}");
        if (sampler is not null)
        {
            var total = sampler.Bytes.Values.Sum();
            Console.WriteLine($"Allocation samples ({sampler.Samples:N0}, about one per 100 KB): share of sampled bytes by type, top 25");
            foreach (var (type, bytes) in sampler.Bytes.OrderByDescending(kv => kv.Value).Take(25))
            {
                Console.WriteLine($"  {bytes * 100.0 / total,5:F1}%  {type}");
            }
        }
    }

    /// <summary>The runtime's GCAllocationTick events (GC keyword, verbose): roughly one per 100 KB allocated, with the
    /// type of the object that crossed the threshold.</summary>
    private sealed class AllocationSampler : EventListener
    {
        public ConcurrentDictionary<string, long> Bytes { get; } = new(StringComparer.Ordinal);

        public long Samples;

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is null)
            {
                return;
            }

            var type = e.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? e.Payload![t] as string ?? "?" : "?";
            var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload![a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
            Bytes.AddOrUpdate(type, amount, (_, n) => n + amount);
            Interlocked.Increment(ref Samples);
        }
    }
}
