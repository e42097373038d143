using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Staffing;

namespace RoutingCluster.SiloHost.Staffing;

/// <summary>A queue's "agents needed now": Erlang C on the load measured over the last 60 minutes, for 80% within the
/// queue's threshold. Null when no load was measured.</summary>
public sealed record QueueStaffingNow(int? AgentsNeeded, double? ArrivalsPerHour, double? AhtSeconds);

/// <summary>
/// The wallboard's "agents needed now" for every queue, refreshed every <see cref="Refresh"/> (one read of the
/// last 60 minutes per queue then, none in between): the figure moves with the hour's load, not with each call.
/// </summary>
public sealed class StaffingNow(StatsReader stats)
{
    /// <summary>How often the needs are measured again.</summary>
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);

    /// <summary>The target the wallboard's figure is computed for.</summary>
    public const double Target = 0.8;

    private IReadOnlyDictionary<string, QueueStaffingNow> _latest = new Dictionary<string, QueueStaffingNow>();
    private DateTimeOffset _measuredAt = DateTimeOffset.MinValue;

    /// <summary>The needs of <paramref name="reports"/>' queues, measured again when the last measure is older than <see cref="Refresh"/>.</summary>
    public async Task<IReadOnlyDictionary<string, QueueStaffingNow>> OfAsync(IReadOnlyList<QueueStatsReport> reports)
    {
        var now = stats.Now;
        if (now - _measuredAt < Refresh && reports.All(r => _latest.ContainsKey(r.QueueId)))
        {
            return _latest;
        }

        var measured = await Task.WhenAll(reports.Select(async r =>
        {
            var recent = await stats.QueueAsync(r.QueueId, now - MeasuredLoad.Window, now);
            return (r.QueueId, Need: recent is null ? new QueueStaffingNow(null, null, null) : NeedOf(recent));
        }));
        _latest = measured.ToDictionary(m => m.QueueId, m => m.Need, StringComparer.Ordinal);
        _measuredAt = now;
        return _latest;
    }

    private static QueueStaffingNow NeedOf(QueueStatsReport report)
    {
        var load = MeasuredLoad.From(report);
        if (load.ArrivalsPerHour is not { } arrivals || load.AhtSeconds is not { } aht)
        {
            return new QueueStaffingNow(null, load.ArrivalsPerHour, load.AhtSeconds);
        }

        var staffing = new StaffingLoad(arrivals, aht, report.Policy.ServiceLevelSeconds);
        int? needed = staffing.Erlangs <= Api.StaffingApi.MaxErlangs ? StaffingPlan.ByFormula(staffing, Target).AgentsNeeded : null;
        return new QueueStaffingNow(needed, Math.Round(arrivals, 1), Math.Round(aht, 1));
    }
}
