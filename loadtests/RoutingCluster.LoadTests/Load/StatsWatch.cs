using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RoutingCluster.LoadTests.Load;

/// <summary>The times (<see cref="Stopwatch.GetTimestamp"/>) at which the desktops' accepts were answered ok, over
/// the whole run (every step), from any thread.</summary>
internal sealed class AcceptLog
{
    private readonly List<long> _timestamps = [];
    private readonly Lock _lock = new();

    public void Add(long timestamp)
    {
        lock (_lock)
        {
            _timestamps.Add(timestamp);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _timestamps.Count;
            }
        }
    }

    /// <summary>Every accept so far, in time order.</summary>
    public long[] Sorted()
    {
        long[] copy;
        lock (_lock)
        {
            copy = [.. _timestamps];
        }

        Array.Sort(copy);
        return copy;
    }
}

/// <summary>One poll of the live figures: when it was sent and answered (Stopwatch timestamps) and the live
/// <c>answered</c> of the run's queues it read.</summary>
internal readonly record struct StatsSample(long SentTimestamp, long ReceivedTimestamp, long Answered);

/// <summary>How stale the live figures were, from the polls of one stretch of the run.</summary>
internal sealed record StalenessFigures
{
    public required int Polls { get; init; }

    /// <summary>Polls whose figure was behind what the driver had seen.</summary>
    public required int PollsBehind { get; init; }

    public required double P50Seconds { get; init; }

    public required double P99Seconds { get; init; }

    public required double MaxSeconds { get; init; }

    public required double MeanSeconds { get; init; }

    /// <summary>The same polls read as "age of the newest answer the figure includes" (t − T(answered)), for polls
    /// with answered &gt; 0.</summary>
    public required double NewestIncludedAgeP99Seconds { get; init; }

    /// <summary>Largest number of answers the driver had seen that the live figure did not show yet.</summary>
    public required long MaxAnswersBehind { get; init; }

    /// <summary>p99 of the poll's round trip (GET /v1/stats), ms.</summary>
    public required double PollRoundTripP99Ms { get; init; }
}

/// <summary>
/// Staleness of the live KPIs (<c>--watch-stats</c>): every 250 ms the driver reads <c>GET /v1/stats?groupBy=queue</c>
/// and keeps the run's queues' <c>answered</c>. Afterwards each poll is set against the times at which the
/// driver's desktops had their accepts answered: a poll received at t that shows A answers, when the driver had
/// seen more than A by t, was stale by t − T(A+1), T(n) being the time the driver saw its n-th accept (the oldest
/// answer the figure was missing had been known that long); a poll showing at least what the driver had seen is
/// not stale (0).
/// </summary>
internal static class Staleness
{
    /// <summary>The staleness of one poll in Stopwatch ticks (see the class), from the sorted accept times.</summary>
    public static long LagTicks(long[] acceptsSorted, long pollTimestamp, long answered)
    {
        ArgumentNullException.ThrowIfNull(acceptsSorted);
        var seen = SeenBy(acceptsSorted, pollTimestamp);
        if (answered >= seen)
        {
            return 0;
        }

        return pollTimestamp - acceptsSorted[Math.Max(0, answered)];
    }

    /// <summary>How many accepts the driver had seen by <paramref name="timestamp"/> (inclusive).</summary>
    public static int SeenBy(long[] acceptsSorted, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(acceptsSorted);
        var i = Array.BinarySearch(acceptsSorted, timestamp);
        if (i < 0)
        {
            return ~i;
        }

        while (i + 1 < acceptsSorted.Length && acceptsSorted[i + 1] == timestamp)
        {
            i++;
        }

        return i + 1;
    }

    /// <summary>The figures of the polls received in [<paramref name="from"/>, <paramref name="to"/>] (Stopwatch
    /// timestamps); null when there were none.</summary>
    public static StalenessFigures? Summarize(IReadOnlyList<StatsSample> samples, long[] acceptsSorted, long from, long to)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var polls = samples.Where(s => s.ReceivedTimestamp >= from && s.ReceivedTimestamp <= to).ToList();
        if (polls.Count == 0)
        {
            return null;
        }

        var lags = polls.Select(p => LagTicks(acceptsSorted, p.ReceivedTimestamp, p.Answered) / (double)Stopwatch.Frequency).Order().ToList();
        var newest = polls.Where(p => p.Answered > 0 && p.Answered <= acceptsSorted.Length)
            .Select(p => Math.Max(0, p.ReceivedTimestamp - acceptsSorted[p.Answered - 1]) / (double)Stopwatch.Frequency)
            .Order().ToList();
        var trips = polls.Select(p => (p.ReceivedTimestamp - p.SentTimestamp) * 1000.0 / Stopwatch.Frequency).Order().ToList();
        return new StalenessFigures
        {
            Polls = polls.Count,
            PollsBehind = lags.Count(l => l > 0),
            P50Seconds = Math.Round(Percentile(lags, 50), 3),
            P99Seconds = Math.Round(Percentile(lags, 99), 3),
            MaxSeconds = Math.Round(lags[^1], 3),
            MeanSeconds = Math.Round(lags.Average(), 3),
            NewestIncludedAgeP99Seconds = newest.Count == 0 ? 0 : Math.Round(Percentile(newest, 99), 3),
            MaxAnswersBehind = polls.Max(p => Math.Max(0, SeenBy(acceptsSorted, p.ReceivedTimestamp) - p.Answered)),
            PollRoundTripP99Ms = Math.Round(Percentile(trips, 99), 1),
        };
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percentile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The sum of <c>answered</c> over the groups of a <c>GET /v1/stats?groupBy=queue</c> answer whose key
    /// starts with <paramref name="queuePrefix"/>.</summary>
    public static long AnsweredOf(string json, string queuePrefix)
    {
        using var document = JsonDocument.Parse(json);
        long answered = 0;
        if (document.RootElement.TryGetProperty("groups", out var groups) && groups.ValueKind == JsonValueKind.Array)
        {
            foreach (var group in groups.EnumerateArray())
            {
                if (group.TryGetProperty("key", out var key) && key.GetString() is { } k && k.StartsWith(queuePrefix, StringComparison.Ordinal)
                    && group.TryGetProperty("answered", out var value) && value.ValueKind == JsonValueKind.Number)
                {
                    answered += value.GetInt64();
                }
            }
        }

        return answered;
    }
}

/// <summary>Polls the live figures in the background until disposed (see <see cref="Staleness"/>).</summary>
internal sealed class StatsWatcher : IAsyncDisposable
{
    private readonly List<StatsSample> _samples = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _failures;

    public StatsWatcher(Uri target, string queuePrefix, TimeSpan every)
    {
        _loop = Task.Run(() => LoopAsync(target, queuePrefix, every));
    }

    public long Failures => Interlocked.Read(ref _failures);

    public IReadOnlyList<StatsSample> Samples()
    {
        lock (_lock)
        {
            return [.. _samples];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync(Uri target, string queuePrefix, TimeSpan every)
    {
        using var http = LoadTokens.Http(target, TimeSpan.FromSeconds(10));
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    var json = await http.GetStringAsync(new Uri("v1/stats?groupBy=queue", UriKind.Relative), _stop.Token);
                    var received = Stopwatch.GetTimestamp();
                    var answered = Staleness.AnsweredOf(json, queuePrefix);
                    lock (_lock)
                    {
                        _samples.Add(new StatsSample(sent, received, answered));
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException && !_stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _failures);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    public static string Describe(StalenessFigures f) => string.Create(CultureInfo.InvariantCulture,
        $"live answered behind the driver: p50 {f.P50Seconds} s, p99 {f.P99Seconds} s, max {f.MaxSeconds} s over {f.Polls} polls ({f.PollsBehind} behind, at most {f.MaxAnswersBehind} answers)");
}
