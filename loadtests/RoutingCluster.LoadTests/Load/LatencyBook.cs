using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace RoutingCluster.LoadTests.Load;

/// <summary>Percentiles of one latency, in milliseconds.</summary>
internal sealed record LatencySummary(string Name, long Count, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs);

/// <summary>
/// Named latency histograms (HdrHistogram, microseconds, 3 significant digits, up to 10 minutes), safe to record
/// into from any thread. Names read as what they measure: <c>POST /v1/sessions</c>, <c>hub Accept</c>, ...
/// Each histogram has its own lock, so that the desktops recording accepts do not wait for the gateway recording
/// creates.
/// </summary>
internal sealed class LatencyBook
{
    private const long HighestMicroseconds = 600_000_000;

    private readonly ConcurrentDictionary<string, LongHistogram> _histograms = new(StringComparer.Ordinal);

    /// <summary>Records a duration measured as a difference of <see cref="Stopwatch.GetTimestamp"/> values.</summary>
    public void Record(string name, long stopwatchTicks)
    {
        var microseconds = Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 0, HighestMicroseconds);
        var histogram = _histograms.GetOrAdd(name, static _ => new LongHistogram(HighestMicroseconds, 3));
        lock (histogram)
        {
            histogram.RecordValue(microseconds);
        }
    }

    public LatencySummary? Summary(string name) =>
        _histograms.TryGetValue(name, out var histogram) ? Summarize(name, histogram) : null;

    /// <summary>Every histogram, in the order of <paramref name="first"/> and then by name.</summary>
    public IReadOnlyList<LatencySummary> Summaries(params string[] first) =>
        [.. _histograms
            .OrderBy(h => Array.IndexOf(first, h.Key) switch { < 0 => int.MaxValue, var i => i })
            .ThenBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => Summarize(h.Key, h.Value))];

    private static LatencySummary Summarize(string name, LongHistogram histogram)
    {
        lock (histogram)
        {
            return Summarize(histogram, name);
        }
    }

    private static LatencySummary Summarize(LongHistogram histogram, string name) =>
        histogram.TotalCount == 0
            ? new LatencySummary(name, 0, 0, 0, 0, 0, 0, 0)
            : new LatencySummary(
                name,
                histogram.TotalCount,
                Ms(histogram.GetValueAtPercentile(50)),
                Ms(histogram.GetValueAtPercentile(90)),
                Ms(histogram.GetValueAtPercentile(99)),
                Ms(histogram.GetValueAtPercentile(99.9)),
                Ms(histogram.GetMaxValue()),
                Math.Round(histogram.GetMean() / 1000.0, 3));

    private static double Ms(long microseconds) => Math.Round(microseconds / 1000.0, 3);
}

/// <summary>Errors by kind (<c>POST /v1/sessions 503</c>, <c>hub Accept HubException</c>, ...), from any thread.</summary>
internal sealed class ErrorBook
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Add(string kind)
    {
        lock (_lock)
        {
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
        }
    }

    public long Total
    {
        get
        {
            lock (_lock)
            {
                return _counts.Values.Sum();
            }
        }
    }

    public IReadOnlyDictionary<string, long> ByKind()
    {
        lock (_lock)
        {
            return new SortedDictionary<string, long>(_counts, StringComparer.Ordinal);
        }
    }
}
