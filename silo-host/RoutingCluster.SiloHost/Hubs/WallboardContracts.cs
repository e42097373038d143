using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>What the wallboard shows, pushed about once a second: every queue's figures today, the totals, the last hour,
/// and the active alerts.</summary>
public sealed record WallboardSnapshot(DateTime At, WallboardTotals Total, IReadOnlyList<WallboardQueue> Queues, IReadOnlyList<WallboardPoint> LastHour, IReadOnlyList<AlertResponse> Alerts);

/// <summary>One queue's row. Elderly customers are shown apart: how many wait and for how long. Callbacks: those waiting
/// now (also counted in <c>waiting</c>), those scheduled for later (not yet waiting), and today's requested
/// (<c>callbacks</c>) and answered (<c>callbacksAnswered</c>). <c>agentsNeeded</c>: Erlang C on the last 60 minutes'
/// arrivals and AHT (also given) for 80% within the threshold; null when unmeasured.</summary>
public sealed record WallboardQueue(
    string QueueId,
    string Name,
    int Waiting,
    double LongestWaitSeconds,
    int ElderlyWaiting,
    double ElderlyLongestWaitSeconds,
    double ServiceLevelSeconds,
    double? ServiceLevel,
    double? AnswerRate,
    double? AverageSpeedOfAnswerSeconds,
    long Offered,
    long Answered,
    long Abandoned,
    int AgentsReady,
    int AgentsBusy,
    int AgentsNotReady,
    int CallbacksWaiting,
    int CallbacksScheduled,
    long Callbacks,
    long CallbacksAnswered,
    int? AgentsNeeded = null,
    double? ArrivalsPerHour = null,
    double? AhtSeconds = null)
{
    public static WallboardQueue From(QueueStatsReport r, Staffing.QueueStaffingNow? staffing = null)
    {
        var f = KpiFigures.From(r.Total, withAgentTime: true);
        var elderly = r.Live.BySegment.GetValueOrDefault(Segment.Elderly);
        return new WallboardQueue(
            r.QueueId,
            r.Name ?? r.QueueId,
            r.Live.Waiting + r.Live.Offering,
            StatsWire.WaitSince(r.Live.OldestArrival, r.At),
            elderly?.Waiting ?? 0,
            StatsWire.WaitSince(elderly?.OldestArrival, r.At),
            r.Live.ServiceLevelSeconds,
            f.ServiceLevel,
            f.AnswerRate,
            f.AverageSpeedOfAnswerSeconds is { } asa ? Wire.Seconds(asa) : null,
            f.Offered,
            f.Answered,
            f.Abandoned,
            r.Live.AgentsIdle,
            r.Live.AgentsBusy,
            r.Live.AgentsNotReady,
            r.Live.CallbacksWaiting,
            r.Live.CallbacksScheduled,
            f.Callbacks,
            f.CallbacksAnswered,
            staffing?.AgentsNeeded,
            staffing?.ArrivalsPerHour,
            staffing?.AhtSeconds);
    }
}

/// <summary>The cluster's totals (session figures added over the queues).</summary>
public sealed record WallboardTotals(
    int Waiting,
    int ElderlyWaiting,
    double LongestWaitSeconds,
    double? ServiceLevel,
    double? AnswerRate,
    long Offered,
    long Answered,
    long Abandoned,
    int CallbacksWaiting,
    int CallbacksScheduled,
    long Callbacks,
    long CallbacksAnswered)
{
    public static WallboardTotals From(IReadOnlyList<QueueStatsReport> reports, IReadOnlyList<WallboardQueue> rows)
    {
        var f = KpiFigures.From(KpiCounters.Sum(reports.Select(r => r.Total.SessionPart())), withAgentTime: false);
        return new WallboardTotals(
            rows.Sum(q => q.Waiting),
            rows.Sum(q => q.ElderlyWaiting),
            rows.Count > 0 ? rows.Max(q => q.LongestWaitSeconds) : 0,
            f.ServiceLevel,
            f.AnswerRate,
            f.Offered,
            f.Answered,
            f.Abandoned,
            rows.Sum(q => q.CallbacksWaiting),
            rows.Sum(q => q.CallbacksScheduled),
            f.Callbacks,
            f.CallbacksAnswered);
    }
}

/// <summary>One minute of the last hour's chart: waiting and elderly waiting at the end of the minute, and the day's service level then.</summary>
public sealed record WallboardPoint(DateTime At, int Waiting, int ElderlyWaiting, double? ServiceLevel);
