using System.Diagnostics.Metrics;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Alerts;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Alerts;

/// <summary>
/// One per silo: checks every queue's alert bounds against the figures the wallboard publisher reads (today's
/// figures combined across the silos, read at least once a second while any queue has bounds), keeps the active
/// alerts for <c>GET /v1/alerts</c>, and counts them in <c>/metrics</c>: <c>routing.alerts.raised</c> (a counter
/// per queue and kind) and <c>routing.alerts.active</c> (a gauge per queue and kind). The raise/clear rule is
/// <see cref="AlertBook"/>'s. Every silo checks the same combined figures, so each silo's list is the cluster's,
/// within the second between two reads; the counters are per silo like every other series of <c>/metrics</c>.
/// </summary>
public sealed partial class AlertMonitor
{
    private readonly AlertBook _book = new();
    private readonly Lock _checking = new();
    private readonly Counter<long> _raised;
    private readonly ILogger<AlertMonitor> _logger;

    public AlertMonitor(IMeterFactory meterFactory, ILogger<AlertMonitor> logger)
    {
        _logger = logger;
        var meter = meterFactory.Create(RoutingMetrics.MeterName);
        _raised = meter.CreateCounter<long>("routing.alerts.raised", "{alert}", "Alerts raised: a queue's figure went out of one of its alert bounds.");
        meter.CreateObservableGauge("routing.alerts.active", ObserveActive, "{alert}", "Alerts active now, per queue and kind (1 while active).");
    }

    /// <summary>Whether some queue had alert bounds at the last check (the figures are then read every second).</summary>
    public bool Watching { get; private set; }

    /// <summary>The active alerts, ordered by queue and kind.</summary>
    public IReadOnlyList<AlertResponse> Active => [.. _book.Active.Select(AlertResponse.From)];

    /// <summary>Checks the queues' figures read at <paramref name="now"/>; answers the alerts raised and cleared.</summary>
    public IReadOnlyList<AlertChangeMessage> Check(IReadOnlyList<QueueStatsReport> reports, DateTimeOffset now)
    {
        var queues = reports
            .Where(r => r.Policy.Alerts is not null)
            .Select(r => (r.QueueId, r.Policy.Alerts!, FiguresOf(r)))
            .ToList();
        IReadOnlyList<AlertChange> changes;
        lock (_checking)
        {
            Watching = queues.Count > 0;
            changes = _book.Check(queues, now);
        }

        foreach (var change in changes)
        {
            var kind = WireNames<AlertKind>.Of(change.Alert.Kind);
            if (change.Raised)
            {
                _raised.Add(1, new KeyValuePair<string, object?>("queue", change.Alert.QueueId), new KeyValuePair<string, object?>("kind", kind));
                Raised(_logger, change.Alert.QueueId, kind, change.Alert.Value, change.Alert.Threshold);
            }
            else
            {
                Cleared(_logger, change.Alert.QueueId, kind, (now - change.Alert.Since).TotalSeconds);
            }
        }

        return [.. changes.Select(c => new AlertChangeMessage(c.Raised ? AlertChangeKind.Raised : AlertChangeKind.Cleared, AlertResponse.From(c.Alert)))];
    }

    private static AlertFigures FiguresOf(QueueStatsReport r)
    {
        var elderly = r.Live.BySegment.GetValueOrDefault(Segment.Elderly);
        var serviceLevel = RoutingCluster.Abstractions.Metrics.KpiFigures.From(r.Total, withAgentTime: false).ServiceLevel;
        return new AlertFigures(
            r.Live.Waiting + r.Live.Offering,
            StatsWire.WaitSince(r.Live.OldestArrival, r.At),
            StatsWire.WaitSince(elderly?.OldestArrival, r.At),
            serviceLevel);
    }

    private IEnumerable<Measurement<int>> ObserveActive() =>
        _book.Active.Select(a => new Measurement<int>(
            1,
            new KeyValuePair<string, object?>("queue", a.QueueId),
            new KeyValuePair<string, object?>("kind", WireNames<AlertKind>.Of(a.Kind))));

    [LoggerMessage(EventId = LogEventIds.AlertRaised, Level = LogLevel.Information, Message = "Alert raised: queue {QueueId} {Kind} at {Value} (bound {Threshold})")]
    private static partial void Raised(ILogger logger, string queueId, string kind, double value, double threshold);

    [LoggerMessage(EventId = LogEventIds.AlertCleared, Level = LogLevel.Information, Message = "Alert cleared: queue {QueueId} {Kind} after {ActiveSeconds} s")]
    private static partial void Cleared(ILogger logger, string queueId, string kind, double activeSeconds);
}
