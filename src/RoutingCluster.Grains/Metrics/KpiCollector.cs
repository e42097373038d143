using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Metrics;

/// <summary>
/// One per silo: adds up what the session and agent grains of this silo count, and sends the sums to the
/// statistics grains once per <see cref="StatsOptions.FlushInterval"/>, one call per queue and agent shard that
/// had traffic. So a statistics grain receives at most one call per second from each silo, however many sessions
/// pass, and no grain is called per session. Recording is a dictionary update under a lock: it never waits.
/// </summary>
/// <remarks>
/// A batch that fails (the grain's silo is going away) is sent again unchanged at the next flush, while new counts
/// gather behind it; its source and sequence number let the grain apply it once. Counts not yet flushed when the
/// silo itself dies (at most one flush interval) are lost to the live figures; the session records keep the truth.
/// </remarks>
public sealed class KpiCollector(
    IGrainFactory grains,
    RoutingClock clock,
    WorkTracker tracker,
    RoutingMetrics metrics,
    IOptions<StatsOptions> options,
    ILogger<KpiCollector> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly Guid _source = Guid.NewGuid();
    private readonly Lock _lock = new();
    private readonly Dictionary<Target, Buffer> _buffers = [];
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private ITimer? _timer;

    public bool Enabled => options.Value.Enabled;

    /// <summary>Counts of a session's stay in a queue (and of the agent who answered it, if any).</summary>
    public void Record(SessionKpi fact)
    {
        Export(fact);
        if (!Enabled)
        {
            return;
        }

        var interval = KpiIntervals.Start(fact.QueuedAt);
        lock (_lock)
        {
            var queue = BufferOf(new Target(TargetKind.Queue, fact.QueueId));
            queue.Add(StatsCell.Total(fact.QueueId, interval), fact.Counts);
            queue.Add(new StatsCell(fact.QueueId, interval, Breakdown.Channel, WireNames<Routing.Model.Channel>.Of(fact.Channel)), fact.Counts);
            foreach (var segment in fact.Segments)
            {
                queue.Add(new StatsCell(fact.QueueId, interval, Breakdown.Segment, WireNames<Routing.Model.Segment>.Of(segment)), fact.Counts);
            }

            if (fact.AgentId is { } agentId)
            {
                BufferOf(new Target(TargetKind.Agents, AgentStatsShards.Of(agentId))).Add(StatsCell.Total(agentId, interval), fact.Counts);
            }
        }
    }

    /// <summary>An agent's activity changed: its time so far is counted, split at interval boundaries.</summary>
    public void Record(AgentActivityChange change)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_lock)
        {
            var shard = BufferOf(new Target(TargetKind.Agents, AgentStatsShards.Of(change.AgentId)));
            var counted = change.Previous != AgentActivity.LoggedOut && change.PreviousSince != default;
            foreach (var (interval, ticks) in counted ? KpiIntervals.Split(change.PreviousSince, change.At) : [])
            {
                var time = new KpiCounters();
                time.AddTime(change.Previous, ticks);
                if (time.IsEmpty)
                {
                    continue; // logged-out time is nobody's
                }

                shard.Add(StatsCell.Total(change.AgentId, interval), time);
                foreach (var queueId in change.PreviousQueues)
                {
                    BufferOf(new Target(TargetKind.Queue, queueId)).Add(StatsCell.Total(queueId, interval), time);
                }
            }

            var mark = new AgentActivityMark(change.AgentId, change.Next, change.At);
            shard.Mark(mark);
            foreach (var queueId in change.Queues)
            {
                BufferOf(new Target(TargetKind.Queue, queueId)).Mark(mark);
            }

            foreach (var left in change.PreviousQueues.Except(change.Queues))
            {
                BufferOf(new Target(TargetKind.Queue, left)).Mark(mark with { Activity = AgentActivity.LoggedOut });
            }
        }
    }

    /// <summary>Sends what was counted so far; completes when every statistics grain has it (or the send failed and
    /// will be repeated). Flushes run one at a time.</summary>
    public async Task FlushAsync()
    {
        await _flushing.WaitAsync();
        try
        {
            List<(Target Target, Buffer Buffer, StatsBatch Batch)> sends = [];
            lock (_lock)
            {
                foreach (var (target, buffer) in _buffers)
                {
                    if (buffer.Seal(_source) is { } batch)
                    {
                        sends.Add((target, buffer, batch));
                    }
                }
            }

            await Task.WhenAll(sends.Select(s => SendAsync(s.Target, s.Buffer, s.Batch)));
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Counts gathered on this silo that no statistics grain has acknowledged yet (cells and activity marks,
    /// in batches on their way and gathering behind them).</summary>
    public int Unsent
    {
        get
        {
            lock (_lock)
            {
                return _buffers.Values.Sum(b => b.Unsent);
            }
        }
    }

    /// <summary>The same events as OpenTelemetry counters (for Prometheus and OTLP), whatever <see cref="Enabled"/> says.</summary>
    private void Export(SessionKpi fact)
    {
        var c = fact.Counts;
        if (c.Offered > 0)
        {
            metrics.SessionOffered(fact.QueueId, fact.Channel);
        }

        if (c.Answered > 0)
        {
            metrics.SessionAnswered(fact.QueueId, fact.Channel, TimeSpan.FromTicks(c.SpeedOfAnswerTicks));
        }

        if (c.Abandoned > 0)
        {
            metrics.SessionAbandoned(fact.QueueId, fact.Channel);
        }

        if (c.Overflowed > 0)
        {
            metrics.SessionOverflowed(fact.QueueId, fact.Channel);
        }

        if (c.Refused > 0)
        {
            metrics.SessionRefused(fact.QueueId, fact.Channel);
        }
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(KpiCollector), ServiceLifecycleStage.Active, Start, Stop);

    public void Dispose()
    {
        _timer?.Dispose();
        _flushing.Dispose();
    }

    private Task Start(CancellationToken cancellationToken)
    {
        var every = options.Value.FlushInterval;
        _timer = clock.Time.CreateTimer(_ => Tick(), null, every, every);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        _timer = null;

        // A silo that stops in an orderly way hands over everything it counted, within its shutdown timeout.
        try
        {
            await FlushAsync().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            StatsLog.NotHandedOver(logger, Unsent);
        }
    }

    private void Tick()
    {
        if (_flushing.CurrentCount == 0)
        {
            return; // the previous flush is still on its way
        }

        tracker.Track(FlushAsync, ex => StatsLog.FlushFailed(logger, ex), "stats flush");
    }

    private async Task SendAsync(Target target, Buffer buffer, StatsBatch batch)
    {
        try
        {
            await (target.Kind == TargetKind.Queue
                ? grains.GetGrain<IQueueStatsGrain>(target.Key).ApplyAsync(batch)
                : grains.GetGrain<IAgentStatsGrain>(target.Key).ApplyAsync(batch));
            lock (_lock)
            {
                buffer.Sent(batch);
            }
        }
        catch (Exception ex)
        {
            StatsLog.SendFailed(logger, ex, target.Key, batch.Sequence);
        }
    }

    private Buffer BufferOf(Target target)
    {
        if (!_buffers.TryGetValue(target, out var buffer))
        {
            _buffers[target] = buffer = new Buffer();
        }

        return buffer;
    }

    private enum TargetKind
    {
        Queue,
        Agents,
    }

    private readonly record struct Target(TargetKind Kind, string Key);

    /// <summary>What gathers for one statistics grain, and the batch on its way there.</summary>
    private sealed class Buffer
    {
        private readonly Dictionary<StatsCell, KpiCounters> _cells = [];
        private readonly Dictionary<string, AgentActivityMark> _marks = new(StringComparer.Ordinal);
        private long _sequence;
        private StatsBatch? _pending;

        public void Add(StatsCell cell, KpiCounters counts)
        {
            if (!_cells.TryGetValue(cell, out var sum))
            {
                _cells[cell] = sum = new KpiCounters();
            }

            sum.Add(counts);
        }

        public void Mark(AgentActivityMark mark) => _marks[mark.AgentId] = mark;

        public int Unsent => _cells.Count + _marks.Count + (_pending is { } p ? p.Cells.Count + p.Activities.Count : 0);

        /// <summary>The batch to send: the one not yet acknowledged, or else a new one of what gathered.</summary>
        public StatsBatch? Seal(Guid source)
        {
            if (_pending is null && (_cells.Count > 0 || _marks.Count > 0))
            {
                _pending = new StatsBatch(
                    source,
                    ++_sequence,
                    [.. _cells.Select(c => new StatsCellCounts(c.Key, c.Value))],
                    [.. _marks.Values]);
                _cells.Clear();
                _marks.Clear();
            }

            return _pending;
        }

        public void Sent(StatsBatch batch)
        {
            if (ReferenceEquals(_pending, batch))
            {
                _pending = null;
            }
        }
    }
}

internal static partial class StatsLog
{
    [LoggerMessage(EventId = LogEventIds.StatsFlushFailed, Level = LogLevel.Warning, Message = "Statistics flush failed")]
    public static partial void FlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = LogEventIds.StatsSendFailed, Level = LogLevel.Warning, Message = "Statistics batch {Sequence} to {Target} failed; it is sent again at the next flush")]
    public static partial void SendFailed(ILogger logger, Exception exception, string target, long sequence);

    [LoggerMessage(EventId = LogEventIds.StatsPersistFailed, Level = LogLevel.Warning, Message = "Statistics of {Owner} could not be written; they are written again at the next persist")]
    public static partial void PersistFailed(ILogger logger, Exception exception, string owner);

    [LoggerMessage(EventId = LogEventIds.StatsLostAtDeactivation, Level = LogLevel.Warning, Message = "Statistics of {Owner} could not be written as its grain deactivated: {Cells} changed interval cell(s) are lost from the stored figures (session records are not affected; the figures can be recomputed from them)")]
    public static partial void LostAtDeactivation(ILogger logger, Exception exception, string owner, int cells);

    [LoggerMessage(EventId = LogEventIds.StatsNotHandedOver, Level = LogLevel.Warning, Message = "Statistics counts of this silo not handed over at stop (the shutdown timeout ended first): {Counts} count(s) not sent to the statistics grains are lost from the live and stored figures (session records are not affected)")]
    public static partial void NotHandedOver(ILogger logger, int counts);
}
