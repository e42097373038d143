using System.Text.Json.Serialization;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary>
/// The KPIs of the industry standard over a range (domain/kpi-definitions.md; docs in README "Live KPIs"). Rates
/// are fractions in [0, 1]; durations seconds (to the millisecond). A figure with nothing to divide by is null.
/// </summary>
public class KpiResponse(KpiFigures f)
{
    /// <summary>Sessions that started waiting in a human queue.</summary>
    public long Offered { get; } = f.Offered;

    /// <summary>Sessions an agent connected with.</summary>
    public long Answered { get; } = f.Answered;

    /// <summary>Answered within the service-level threshold (speed of answer at most the threshold).</summary>
    public long AnsweredWithinThreshold { get; } = f.AnsweredWithinThreshold;

    /// <summary>Customers who left while waiting or being offered.</summary>
    public long Abandoned { get; } = f.Abandoned;

    /// <summary>Sessions that left unanswered for another queue, or ended at the maximum wait.</summary>
    public long Overflowed { get; } = f.Overflowed;

    /// <summary>Sessions turned away because the queue was full (not offered).</summary>
    public long Refused { get; } = f.Refused;

    /// <summary>Answered / offered.</summary>
    public double? AnswerRate { get; } = f.AnswerRate;

    /// <summary>Answered within the threshold / offered.</summary>
    public double? ServiceLevel { get; } = f.ServiceLevel;

    /// <summary>(Queue time + offer time of the answered sessions) / answered.</summary>
    public double? AverageSpeedOfAnswerSeconds { get; } = Ms(f.AverageSpeedOfAnswerSeconds);

    /// <summary>Talk time / answered (live: over the answered sessions whose talk has ended).</summary>
    public double? AverageTalkSeconds { get; } = Ms(f.AverageTalkSeconds);

    /// <summary>After-call work time / answered (live: over those whose after-call work has ended).</summary>
    public double? AverageAfterCallWorkSeconds { get; } = Ms(f.AverageAfterCallWorkSeconds);

    /// <summary>(Ready-idle + offer + talk + after-call work time) / logged-in time of the agents.</summary>
    public double? Occupancy { get; } = f.Occupancy;

    /// <summary>Logged-in time of the agents in hours; null where agent time does not apply (a channel or segment).</summary>
    public double? LoggedInHours { get; } = f.LoggedInHours;

    /// <summary>Answered / (logged-in hours / standard hours of one agent-day).</summary>
    public double? DailyHandledPerAgent { get; } = f.DailyHandledPerAgent;

    /// <summary>Sessions whose customer asked to be called back (each also counted once in offered).</summary>
    public long Callbacks { get; } = f.Callbacks;

    /// <summary>Callbacks an agent connected with (also counted in answered; a scheduled one's speed of answer counts
    /// from its time).</summary>
    public long CallbacksAnswered { get; } = f.CallbacksAnswered;

    private static double? Ms(double? seconds) => seconds is { } s ? Wire.Seconds(s) : null;
}

/// <summary>A segment of a queue: who of it waits now, and its figures.</summary>
public sealed class SegmentStatsResponse(KpiFigures f, SegmentWaiting? waiting, DateTimeOffset at) : KpiResponse(f)
{
    public int Waiting { get; } = waiting?.Waiting ?? 0;

    public double LongestWaitSeconds { get; } = StatsWire.WaitSince(waiting?.OldestArrival, at);
}

/// <summary><c>GET /v1/queues/{id}/stats</c>: what the queue holds now, and its figures over the range (today by default).</summary>
public sealed class QueueStatsResponse(QueueStatsReport r, double standardHours) : KpiResponse(KpiFigures.From(r.Total, withAgentTime: true, standardHours))
{
    public string QueueId { get; } = r.QueueId;

    /// <summary>Start of the first 15-minute interval covered.</summary>
    public DateTime From { get; } = Wire.Utc(r.From);

    public DateTime To { get; } = Wire.Utc(r.To);

    /// <summary>When the figures were read.</summary>
    public DateTime At { get; } = Wire.Utc(r.At);

    public double ServiceLevelSeconds { get; } = r.Live.ServiceLevelSeconds;

    /// <summary>Sessions waiting now (queued, not yet offered).</summary>
    public int Waiting { get; } = r.Live.Waiting + r.Live.Offering;

    public double LongestWaitSeconds { get; } = StatsWire.WaitSince(r.Live.OldestArrival, r.At);

    /// <summary>Agents of the queue ready and holding nothing.</summary>
    public int AgentsReady { get; } = r.Live.AgentsIdle;

    /// <summary>Agents of the queue holding a session or an offer.</summary>
    public int AgentsBusy { get; } = r.Live.AgentsBusy;

    public int AgentsNotReady { get; } = r.Live.AgentsNotReady;

    [JsonPropertyOrder(1)]
    public IReadOnlyDictionary<string, SegmentStatsResponse> BySegment { get; } = StatsWire.Segments(r.BySegment, r.Live, r.At, standardHours);

    [JsonPropertyOrder(1)]
    public IReadOnlyDictionary<string, KpiResponse> ByChannel { get; } =
        r.ByChannel.ToDictionary(kv => kv.Key, kv => new KpiResponse(KpiFigures.From(kv.Value, withAgentTime: false, standardHours)), StringComparer.Ordinal);
}

/// <summary>One group of <c>GET /v1/stats</c>: a queue, channel, segment, agent or interval (its start, ISO-8601 UTC).</summary>
public sealed class StatsGroupResponse(string key, KpiFigures f, int? waiting, double? longestWaitSeconds) : KpiResponse(f)
{
    public string Key { get; } = key;

    /// <summary>Waiting now (queues and segments only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Waiting { get; } = waiting;

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LongestWaitSeconds { get; } = longestWaitSeconds;
}

/// <summary>The cluster as a whole: waiting now across queues, and its figures.</summary>
public sealed class ClusterTotalResponse(KpiFigures f, IReadOnlyList<QueueLive> live, DateTimeOffset at) : KpiResponse(f)
{
    public int Waiting { get; } = live.Sum(l => l.Waiting + l.Offering);

    public double LongestWaitSeconds { get; } = StatsWire.WaitSince(live.Min(l => l.OldestArrival), at);

    public int AgentsReady { get; } = live.Sum(l => l.AgentsIdle);

    public int AgentsBusy { get; } = live.Sum(l => l.AgentsBusy);

    public int AgentsNotReady { get; } = live.Sum(l => l.AgentsNotReady);
}

/// <summary><c>GET /v1/stats</c>: the cluster-wide figures over the range (today by default), and per group.</summary>
public sealed class ClusterStatsResponse(ClusterStatsReport r, double standardHours)
{
    public DateTime From { get; } = Wire.Utc(r.From);

    public DateTime To { get; } = Wire.Utc(r.To);

    public DateTime At { get; } = Wire.Utc(r.At);

    public StatsGroupBy GroupBy { get; } = r.GroupBy;

    public ClusterTotalResponse Total { get; } = new(KpiFigures.From(r.Total, withAgentTime: true, standardHours), r.Live, r.At);

    [JsonPropertyOrder(1)]
    public IReadOnlyList<StatsGroupResponse> Groups { get; } = StatsWire.Groups(r, standardHours);
}

internal static class StatsWire
{
    public static double WaitSince(DateTimeOffset? oldest, DateTimeOffset at) =>
        oldest is { } o && o < at ? Wire.Seconds((at - o).TotalSeconds) : 0;

    public static Dictionary<string, SegmentStatsResponse> Segments(IReadOnlyDictionary<string, KpiCounters> counted, QueueLive live, DateTimeOffset at, double standardHours)
    {
        var waiting = live.BySegment.ToDictionary(kv => WireNames<Segment>.Of(kv.Key), kv => kv.Value, StringComparer.Ordinal);
        return counted.Keys.Union(waiting.Keys).Order(StringComparer.Ordinal).ToDictionary(
            k => k,
            k => new SegmentStatsResponse(KpiFigures.From(counted.GetValueOrDefault(k) ?? new KpiCounters(), withAgentTime: false, standardHours), waiting.GetValueOrDefault(k), at),
            StringComparer.Ordinal);
    }

    public static List<StatsGroupResponse> Groups(ClusterStatsReport r, double standardHours)
    {
        var byQueue = r.Live.ToDictionary(l => l.QueueId, StringComparer.Ordinal);
        var bySegment = r.Live.SelectMany(l => l.BySegment)
            .GroupBy(kv => WireNames<Segment>.Of(kv.Key), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (Waiting: g.Sum(kv => kv.Value.Waiting), Oldest: g.Min(kv => kv.Value.OldestArrival)), StringComparer.Ordinal);
        var withAgentTime = r.GroupBy is StatsGroupBy.Queue or StatsGroupBy.Agent or StatsGroupBy.Interval;
        return [.. r.Groups.Select(g =>
        {
            var figures = KpiFigures.From(g.Counters, withAgentTime, standardHours);
            return r.GroupBy switch
            {
                StatsGroupBy.Queue when byQueue.TryGetValue(g.Key, out var l) =>
                    new StatsGroupResponse(g.Key, figures, l.Waiting + l.Offering, WaitSince(l.OldestArrival, r.At)),
                StatsGroupBy.Segment => bySegment.TryGetValue(g.Key, out var s)
                    ? new StatsGroupResponse(g.Key, figures, s.Waiting, WaitSince(s.Oldest, r.At))
                    : new StatsGroupResponse(g.Key, figures, 0, 0),
                _ => new StatsGroupResponse(g.Key, figures, null, null),
            };
        })];
    }
}
