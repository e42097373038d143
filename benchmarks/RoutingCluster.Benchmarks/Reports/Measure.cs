using System.Diagnostics;

namespace RoutingCluster.Benchmarks.Reports;

/// <summary>Small measuring helpers for the console reports (not BenchmarkDotNet).</summary>
internal static class Measure
{
    /// <summary>Median nanoseconds per operation over <paramref name="repeats"/> timed repetitions, each at
    /// least <paramref name="repeatMs"/> long, after one calibration.</summary>
    public static double NanosPerOp(Action<int> op, int repeats = 7, int repeatMs = 60)
    {
        // Calibrate: how many operations make one repetition.
        var count = 1;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                op(i);
            }

            if (sw.Elapsed.TotalMilliseconds >= repeatMs || count >= 1 << 24)
            {
                break;
            }

            count *= 2;
        }

        var results = new double[repeats];
        for (var r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                op(i);
            }

            results[r] = sw.Elapsed.TotalNanoseconds / count;
        }

        Array.Sort(results);
        return results[repeats / 2];
    }

    /// <summary>The managed heap after a full, compacting collection (twice, so finalizable objects are gone too).</summary>
    public static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    public static string Ns(double ns) => ns >= 1_000_000 ? $"{ns / 1_000_000:F2} ms" : ns >= 1_000 ? $"{ns / 1_000:F2} µs" : $"{ns:F0} ns";

    public static string Bytes(double bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024 * 1024):F1} MiB" : bytes >= 1024 ? $"{bytes / 1024:F1} KiB" : $"{bytes:F0} B";
}
