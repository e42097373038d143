namespace RoutingCluster.Abstractions.Metrics;

/// <summary>How a queue's counts are broken down: the queue as a whole, or one channel or segment of it.</summary>
public enum Breakdown
{
    Total,
    Channel,
    Segment,
}

/// <summary>
/// One cell of the statistics: an owner (queue or agent id), a 15-minute interval, and a breakdown of the owner
/// (<see cref="Breakdown.Total"/> with an empty value, or a channel or segment by its wire name).
/// </summary>
[GenerateSerializer, Immutable, Alias("rc.stats-cell")]
public readonly record struct StatsCell(
    [property: Id(0)] string Owner,
    [property: Id(1)] DateTimeOffset Interval,
    [property: Id(2)] Breakdown Breakdown,
    [property: Id(3)] string Value)
{
    public static StatsCell Total(string owner, DateTimeOffset interval) => new(owner, interval, Breakdown.Total, string.Empty);
}

[GenerateSerializer, Immutable, Alias("rc.stats-cell-counts")]
public sealed record StatsCellCounts([property: Id(0)] StatsCell Cell, [property: Id(1)] KpiCounters Counters);

/// <summary>An agent's current activity and since when: the time it spends there counts once it ends, and until
/// then a query adds it up to the query's instant.</summary>
[GenerateSerializer, Immutable, Alias("rc.agent-activity-mark")]
public sealed record AgentActivityMark(
    [property: Id(0)] string AgentId,
    [property: Id(1)] AgentActivity Activity,
    [property: Id(2)] DateTimeOffset Since);

/// <summary>
/// What one silo counted for one statistics grain since its last flush. <see cref="Sequence"/> rises by one per
/// batch from a source, so a batch sent again after a lost reply is applied once.
/// </summary>
[GenerateSerializer, Immutable, Alias("rc.stats-batch")]
public sealed record StatsBatch(
    [property: Id(0)] Guid Source,
    [property: Id(1)] long Sequence,
    [property: Id(2)] IReadOnlyList<StatsCellCounts> Cells,
    [property: Id(3)] IReadOnlyList<AgentActivityMark> Activities);

/// <summary>How a statistics grain sums its cells for a query.</summary>
public enum StatsGrouping
{
    /// <summary>One sum per owner and breakdown over the whole range.</summary>
    Range,

    /// <summary>One sum per owner, breakdown and 15-minute interval.</summary>
    Interval,
}

/// <summary>A query of [<see cref="From"/>, <see cref="To"/>). With <see cref="SumOwners"/>, an agent shard adds all its
/// agents into one owner "*" (cluster-wide figures); with <see cref="Owner"/>, it answers for that agent only.</summary>
[GenerateSerializer, Immutable, Alias("rc.stats-query")]
public sealed record StatsQuery(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] StatsGrouping Grouping = StatsGrouping.Range,
    [property: Id(3)] string? Owner = null,
    [property: Id(4)] bool SumOwners = false);

/// <summary>The summed cells of a query, with agent time up to <see cref="At"/> (the activities still going on).</summary>
[GenerateSerializer, Immutable, Alias("rc.stats-result")]
public sealed record StatsResult(
    [property: Id(0)] IReadOnlyList<StatsCellCounts> Cells,
    [property: Id(1)] DateTimeOffset At);

/// <summary>
/// The statistics of one queue: its counts per 15-minute interval, as a whole and per channel and segment, and
/// the time of the agents who serve it. Fed by every silo's collector at most once a second; persisted per interval.
/// </summary>
[Alias("rc.queue-stats")]
public interface IQueueStatsGrain : IGrainWithStringKey
{
    [Alias("apply")]
    Task ApplyAsync(StatsBatch batch);

    [Alias("query")]
    Task<StatsResult> QueryAsync(StatsQuery query);

    /// <summary>Writes the intervals that changed since the last write (normally on its own timer).</summary>
    [Alias("persist")]
    Task PersistAsync();
}

/// <summary>
/// The statistics of the agents whose id hashes to this shard (<see cref="AgentStatsShards"/>): per agent and
/// interval, the sessions they answered and their time by activity. Sharded so that a cluster-wide query asks a
/// fixed, small number of grains, and a flush from a silo is one call per shard, not one per agent.
/// </summary>
[Alias("rc.agent-stats")]
public interface IAgentStatsGrain : IGrainWithStringKey
{
    [Alias("apply")]
    Task ApplyAsync(StatsBatch batch);

    [Alias("query")]
    Task<StatsResult> QueryAsync(StatsQuery query);

    [Alias("persist")]
    Task PersistAsync();
}

/// <summary>Where an agent's statistics live.</summary>
public static class AgentStatsShards
{
    public const int Count = 32;

    public static string Of(string agentId)
    {
        // FNV-1a over the UTF-16 code units: stable across processes and runtimes (string.GetHashCode is not).
        var hash = 2166136261u;
        foreach (var c in agentId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return Key((int)(hash % Count));
    }

    public static string Key(int shard) => $"agents-{shard:D2}";

    public static IEnumerable<string> All => Enumerable.Range(0, Count).Select(Key);
}

/// <summary>The queues that have statistics: the cluster-wide figures add these. Changes only when a queue is
/// created, so reading it costs one call per query, never per session.</summary>
[Alias("rc.stats-directory")]
public interface IStatsDirectoryGrain : IGrainWithStringKey
{
    public const string Key = "queues";

    [Alias("add")]
    Task AddQueueAsync(string queueId);

    [Alias("queues")]
    Task<IReadOnlyList<string>> QueuesAsync();
}
