using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.SiloHost.Alerts;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>Settings of the wallboard (configuration section <c>Wallboard</c>).</summary>
public sealed class WallboardOptions
{
    /// <summary>How often the figures are read and pushed while a wallboard is open on this silo.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often they are read when no wallboard is open (they also feed the queue gauges of /metrics).</summary>
    public TimeSpan IdleRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// One per silo: reads every queue's figures (one call per queue grain and statistics grain, never per session),
/// pushes them to the wallboards connected to this silo, keeps the last hour minute by minute for the chart, and
/// hands the latest figures to the queue gauges of <see cref="RoutingMetrics"/> and the queues' alert bounds to
/// <see cref="AlertMonitor"/>, pushing the alerts it raises and clears.
/// </summary>
public sealed partial class WallboardPublisher(
    StatsReader stats,
    IHubContext<WallboardHub> hub,
    RoutingMetrics metrics,
    AlertMonitor alerts,
    Staffing.StaffingNow staffing,
    IOptions<WallboardOptions> options,
    ILogger<WallboardPublisher> logger) : BackgroundService
{
    private const int HistoryMinutes = 60;
    private static readonly TimeSpan MinimumPause = TimeSpan.FromMilliseconds(50);
    private readonly SortedDictionary<DateTime, WallboardPoint> _history = [];
    private int _watching;

    public WallboardSnapshot? Latest { get; private set; }

    public void Watching(int delta) => Interlocked.Add(ref _watching, delta);

    /// <summary>The queue gauges read this publisher from the moment the host has started: the host awaits this,
    /// while <see cref="ExecuteAsync"/> runs later, on the thread pool.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveQueues(Gauges);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var (snapshot, changes) = await ReadAsync();
                Latest = snapshot;
                if (Volatile.Read(ref _watching) > 0)
                {
                    foreach (var change in changes)
                    {
                        await hub.Clients.All.SendAsync(WallboardHub.AlertMethod, change, stoppingToken);
                    }

                    await hub.Clients.All.SendAsync(WallboardHub.SnapshotMethod, snapshot, stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                ReadFailed(logger, ex); // the cluster is starting or a silo is going away: try again next time
            }

            // The next read is due one interval after this one started, so that reads come every interval, not every
            // interval plus the time a read takes.
            var every = Volatile.Read(ref _watching) > 0 || alerts.Watching ? options.Value.RefreshInterval : options.Value.IdleRefreshInterval;
            var rest = every - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            try
            {
                await Task.Delay(rest > MinimumPause ? rest : MinimumPause, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<(WallboardSnapshot Snapshot, IReadOnlyList<AlertChangeMessage> Changes)> ReadAsync()
    {
        var reports = await stats.QueuesTodayAsync();
        var changes = alerts.Check(reports, stats.Now);
        var needs = await staffing.OfAsync(reports);
        var rows = reports.Select(r => WallboardQueue.From(r, needs.GetValueOrDefault(r.QueueId))).OrderBy(q => q.QueueId, StringComparer.Ordinal).ToList();
        var total = WallboardTotals.From(reports, rows);
        var at = stats.Now.UtcDateTime;
        var minute = new DateTime(at.Ticks - (at.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
        List<WallboardPoint> lastHour;
        lock (_history)
        {
            _history[minute] = new WallboardPoint(minute, total.Waiting, total.ElderlyWaiting, total.ServiceLevel);
            foreach (var old in _history.Keys.Where(k => k <= minute.AddMinutes(-HistoryMinutes)).ToList())
            {
                _history.Remove(old);
            }

            lastHour = [.. _history.Values];
        }

        return (new WallboardSnapshot(at, total, rows, lastHour, alerts.Active), changes);
    }

    private IReadOnlyCollection<QueueGauge> Gauges() =>
        Latest?.Queues.Select(q => new QueueGauge(q.QueueId, q.Waiting, q.LongestWaitSeconds, q.ElderlyWaiting, q.ServiceLevel, q.AnswerRate, q.AgentsReady, q.AgentsBusy)).ToList()
        ?? [];

    [LoggerMessage(EventId = LogEventIds.WallboardReadFailed, Level = LogLevel.Debug, Message = "Wallboard figures could not be read; trying again")]
    private static partial void ReadFailed(ILogger logger, Exception exception);
}
