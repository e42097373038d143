using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.SiloHost.Staffing;

/// <summary>
/// The load a queue measured over a recent window: arrivals per hour (offered over the hours of the 15-minute
/// intervals the figures cover) and AHT (average talk + average after-call work); each null when nothing was
/// measured. The defaults of the staffing what-if and the wallboard's "agents needed now".
/// </summary>
public sealed record MeasuredLoad(double? ArrivalsPerHour, double? AhtSeconds, double ElderlyShare)
{
    /// <summary>The window the load is measured over.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(60);

    public static MeasuredLoad From(QueueStatsReport report)
    {
        var figures = KpiFigures.From(report.Total, withAgentTime: false);
        var hours = (report.To - report.From).TotalHours;
        var elderly = figures.Offered > 0 && report.BySegment.TryGetValue("elderly", out var e) ? (double)e.Offered / figures.Offered : 0;
        return new MeasuredLoad(
            figures.Offered > 0 && hours > 0 ? figures.Offered / hours : null,
            figures.AverageTalkSeconds is { } talk && talk + (figures.AverageAfterCallWorkSeconds ?? 0) > 0 ? talk + (figures.AverageAfterCallWorkSeconds ?? 0) : null,
            elderly);
    }
}
