using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Metrics;

/// <summary>The persisted state of a statistics grain beside its intervals (which go to the <see cref="IStatsStore"/>):
/// the activities still going on, and the last batch applied from each silo.</summary>
[GenerateSerializer, Alias("rc.stats-grain-record")]
public sealed class StatsGrainRecord
{
    [Id(0)] public Dictionary<string, AgentActivityMark> Activities { get; set; } = [];

    [Id(1)] public Dictionary<Guid, AppliedBatch> Applied { get; set; } = [];
}

[GenerateSerializer, Immutable, Alias("rc.applied-batch")]
public sealed record AppliedBatch([property: Id(0)] long Sequence, [property: Id(1)] DateTimeOffset At);

/// <summary>
/// What the queue statistics grain and the agent shards share: apply batches from the silos' collectors once,
/// keep today's and yesterday's intervals in memory, write the changed ones on a timer and when deactivated, and
/// answer queries from memory and, for older intervals, from the store.
/// </summary>
public abstract class StatsGrainBase(
    IPersistentState<StatsGrainRecord> state,
    IStatsStore store,
    RoutingClock clock,
    WorkTracker tracker,
    IOptions<StatsOptions> options,
    UnwrittenStats unwritten,
    ILogger logger) : Grain
{
    private readonly StatsBook _book = new();
    private Alarm? _alarm;

    protected abstract StatsOwnerKind Kind { get; }

    protected string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _alarm = new Alarm(clock, tracker, PersistThroughSelf, ex => StatsLog.PersistFailed(logger, ex, Key), $"persist stats {Key}");
        var heldFrom = KpiIntervals.DayStart(clock.Now).AddDays(-1);
        _book.Load(await store.LoadAsync(Kind, Key, heldFrom, DateTimeOffset.MaxValue, cancellationToken), heldFrom);
        foreach (var mark in state.State.Activities.Values)
        {
            _book.Activities[mark.AgentId] = mark;
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _alarm?.Dispose();
        try
        {
            // Within the time the silo gives its deactivations (its host's shutdown timeout when it stops).
            await PersistAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            // The silo is going away (with memory storage its storage may already be gone; with a database the database
            // may be down, or the stop out of time): the intervals written at the last persist stay, and what changed
            // since (at most one persist interval) is lost from the stored figures. Sessions are not: their records
            // keep every transition, and the figures can be recomputed from them.
            StatsLog.LostAtDeactivation(logger, ex, Key, _book.DirtyCount);
        }
        finally
        {
            unwritten.Written(Kind, Key); // this activation's account ends here (written, or logged as lost)
        }
    }

    public Task ApplyAsync(StatsBatch batch)
    {
        var applied = state.State.Applied;
        if (applied.TryGetValue(batch.Source, out var last) && batch.Sequence <= last.Sequence)
        {
            return Task.CompletedTask; // sent again after a lost reply: already counted
        }

        applied[batch.Source] = new AppliedBatch(batch.Sequence, clock.Now);
        _book.Apply(batch);
        unwritten.Pending(Kind, Key, _book.DirtyCount);
        _alarm?.Set(_alarm.At ?? clock.Now + options.Value.PersistInterval);
        return Task.CompletedTask;
    }

    public async Task<StatsResult> QueryAsync(StatsQuery query)
    {
        var now = clock.Now;
        IEnumerable<StatsCellCounts> cells = _book.Held(KpiIntervals.Start(query.From), query.To);
        if (query.From < _book.HeldFrom)
        {
            var older = await store.LoadAsync(Kind, Key, KpiIntervals.Start(query.From), query.To < _book.HeldFrom ? query.To : _book.HeldFrom);
            cells = cells.Concat(older);
        }

        return new StatsResult(StatsBook.Sum(cells, _book.Activities.Values, OwnerOf, query, now), now);
    }

    /// <summary>Writes the intervals that changed since the last write, and the activities going on. Counted
    /// batches are not written one by one: a crash loses at most one persist interval of the day's figures,
    /// never a session (the session records keep every transition).</summary>
    public Task PersistAsync() => PersistAsync(CancellationToken.None);

    private async Task PersistAsync(CancellationToken cancellationToken)
    {
        _alarm?.Clear();
        if (!_book.IsDirty)
        {
            return;
        }

        var now = clock.Now;
        var cells = _book.TakeDirty();
        try
        {
            await store.SaveAsync(Kind, Key, cells, cancellationToken);
            state.State.Activities = new Dictionary<string, AgentActivityMark>(_book.Activities, StringComparer.Ordinal);
            foreach (var stale in state.State.Applied.Where(a => a.Value.At < now.AddDays(-2)).Select(a => a.Key).ToList())
            {
                state.State.Applied.Remove(stale);
            }

            await state.WriteStateAsync(cancellationToken);
        }
        catch
        {
            _book.Unwritten(cells);
            unwritten.Pending(Kind, Key, _book.DirtyCount);
            _alarm?.Set(now + options.Value.PersistInterval);
            throw;
        }

        unwritten.Written(Kind, Key);
        _book.Evict(KpiIntervals.DayStart(now).AddDays(-1));
    }

    /// <summary>Who an activity's time is counted for in this grain.</summary>
    protected abstract string OwnerOf(AgentActivityMark mark);

    protected abstract Task PersistThroughSelf();
}

/// <summary>The statistics of one queue (key: the queue id), as a whole and per channel and segment.</summary>
public sealed class QueueStatsGrain(
    [PersistentState("stats", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<StatsGrainRecord> state,
    IStatsStore store,
    RoutingClock clock,
    WorkTracker tracker,
    IOptions<StatsOptions> options,
    UnwrittenStats unwritten,
    ILogger<QueueStatsGrain> logger) : StatsGrainBase(state, store, clock, tracker, options, unwritten, logger), IQueueStatsGrain
{
    protected override StatsOwnerKind Kind => StatsOwnerKind.Queue;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);

        // Known to the cluster-wide figures from its first count on. The directory calls no one, so this cannot deadlock.
        await GrainFactory.GetGrain<IStatsDirectoryGrain>(IStatsDirectoryGrain.Key).AddQueueAsync(Key);
    }

    protected override string OwnerOf(AgentActivityMark mark) => Key;

    protected override Task PersistThroughSelf() => this.AsReference<IQueueStatsGrain>().PersistAsync();
}

/// <summary>The statistics of the agents of one shard (key: <see cref="AgentStatsShards.Key"/>), per agent.</summary>
public sealed class AgentStatsGrain(
    [PersistentState("stats", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<StatsGrainRecord> state,
    IStatsStore store,
    RoutingClock clock,
    WorkTracker tracker,
    IOptions<StatsOptions> options,
    UnwrittenStats unwritten,
    ILogger<AgentStatsGrain> logger) : StatsGrainBase(state, store, clock, tracker, options, unwritten, logger), IAgentStatsGrain
{
    protected override StatsOwnerKind Kind => StatsOwnerKind.Agent;

    protected override string OwnerOf(AgentActivityMark mark) => mark.AgentId;

    protected override Task PersistThroughSelf() => this.AsReference<IAgentStatsGrain>().PersistAsync();
}

/// <summary>The ids of the queues that have statistics.</summary>
public sealed class StatsDirectoryGrain(
    [PersistentState("directory", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<StatsDirectoryRecord> state) : Grain, IStatsDirectoryGrain
{
    public async Task AddQueueAsync(string queueId)
    {
        if (state.State.Queues.Add(queueId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> QueuesAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Queues.Order(StringComparer.Ordinal)]);
}

[GenerateSerializer, Alias("rc.stats-directory-record")]
public sealed class StatsDirectoryRecord
{
    [Id(0)] public HashSet<string> Queues { get; set; } = new(StringComparer.Ordinal);
}
