using Microsoft.Extensions.Options;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Metrics;

/// <summary>How cluster-wide figures are grouped.</summary>
public enum StatsGroupBy
{
    Queue,
    Channel,
    Segment,
    Agent,
    Interval,
}

/// <summary>A queue's figures over a range, with what it holds right now.</summary>
public sealed record QueueStatsReport(
    string QueueId,
    string? Name,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset At,
    QueueLive Live,
    KpiCounters Total,
    IReadOnlyDictionary<string, KpiCounters> ByChannel,
    IReadOnlyDictionary<string, KpiCounters> BySegment)
{
    /// <summary>The queue's routing policy (its thresholds and alert bounds) when the figures were read.</summary>
    public RoutingCluster.Routing.Model.QueuePolicy Policy { get; init; } = RoutingCluster.Routing.Model.QueuePolicy.Default;
}

/// <summary>Cluster-wide figures over a range: the total, and one group per queue, channel, segment, agent or interval.</summary>
public sealed record ClusterStatsReport(
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset At,
    StatsGroupBy GroupBy,
    KpiCounters Total,
    IReadOnlyList<QueueLive> Live,
    IReadOnlyList<(string Key, KpiCounters Counters)> Groups);

/// <summary>
/// Reads the statistics grains for the API and the wallboard. A query asks each queue's grain and the agent shards
/// once (a fixed, small fan-out per query, none per session).
/// </summary>
public sealed class StatsReader(IGrainFactory grains, RoutingClock clock, IOptions<StatsOptions> options)
{
    public DateTimeOffset Now => clock.Now;

    public double StandardHoursPerAgentDay => options.Value.StandardHoursPerAgentDay;

    /// <summary>The figures of one queue over [from, to); null when the queue does not exist.</summary>
    public async Task<QueueStatsReport?> QueueAsync(string queueId, DateTimeOffset from, DateTimeOffset to)
    {
        var queue = grains.GetGrain<IQueueGrain>(queueId);
        if (await queue.GetAsync() is not { } config)
        {
            return null;
        }

        var liveTask = queue.GetLiveAsync();
        var result = await grains.GetGrain<IQueueStatsGrain>(queueId).QueryAsync(new StatsQuery(from, to));
        var live = await liveTask;
        return new QueueStatsReport(
            queueId,
            config.Name,
            KpiIntervals.Start(from),
            to,
            result.At,
            live,
            SumOf(result.Cells, Breakdown.Total),
            ByValue(result.Cells, Breakdown.Channel),
            ByValue(result.Cells, Breakdown.Segment))
        {
            Policy = config.Policy,
        };
    }

    /// <summary>Today's figures of every queue that has statistics (what a wallboard shows), one query per queue at once.</summary>
    public async Task<IReadOnlyList<QueueStatsReport>> QueuesTodayAsync()
    {
        var now = clock.Now;
        var queueIds = await grains.GetGrain<IStatsDirectoryGrain>(IStatsDirectoryGrain.Key).QueuesAsync();
        var reports = await Task.WhenAll(queueIds.Select(q => QueueAsync(q, KpiIntervals.DayStart(now), now)));
        return [.. reports.OfType<QueueStatsReport>()];
    }

    /// <summary>The cluster-wide figures over [from, to), grouped.</summary>
    public async Task<ClusterStatsReport> ClusterAsync(DateTimeOffset from, DateTimeOffset to, StatsGroupBy groupBy)
    {
        var queueIds = await grains.GetGrain<IStatsDirectoryGrain>(IStatsDirectoryGrain.Key).QueuesAsync();
        var grouping = groupBy == StatsGroupBy.Interval ? StatsGrouping.Interval : StatsGrouping.Range;
        var queueQuery = new StatsQuery(from, to, grouping);
        var agentQuery = new StatsQuery(from, to, grouping, SumOwners: groupBy != StatsGroupBy.Agent);

        var queueResults = Task.WhenAll(queueIds.Select(q => grains.GetGrain<IQueueStatsGrain>(q).QueryAsync(queueQuery)));
        var lives = Task.WhenAll(queueIds.Select(q => grains.GetGrain<IQueueGrain>(q).GetLiveAsync()));
        var agentResults = Task.WhenAll(AgentStatsShards.All.Select(s => grains.GetGrain<IAgentStatsGrain>(s).QueryAsync(agentQuery)));
        var queueCells = (await queueResults).SelectMany(r => r.Cells).ToList();
        var agentCells = (await agentResults).SelectMany(r => r.Cells).ToList();
        var at = clock.Now;

        // Session counts come from the queues; agent time from the agents (an agent of two queues counts once).
        var total = SumOf(queueCells, Breakdown.Total).SessionPart();
        total.Add(KpiCounters.Sum(agentCells.Select(c => c.Counters.TimePart())));

        IEnumerable<(string Key, KpiCounters Counters)> groups = groupBy switch
        {
            StatsGroupBy.Queue => queueCells.Where(c => c.Cell.Breakdown == Breakdown.Total)
                .GroupBy(c => c.Cell.Owner).Select(g => (g.Key, KpiCounters.Sum(g.Select(c => c.Counters)))),
            StatsGroupBy.Channel => ByValue(queueCells, Breakdown.Channel).Select(kv => (kv.Key, kv.Value)),
            StatsGroupBy.Segment => ByValue(queueCells, Breakdown.Segment).Select(kv => (kv.Key, kv.Value)),
            StatsGroupBy.Agent => agentCells.GroupBy(c => c.Cell.Owner).Select(g => (g.Key, KpiCounters.Sum(g.Select(c => c.Counters)))),
            _ => queueCells.Where(c => c.Cell.Breakdown == Breakdown.Total).Select(c => (c.Cell.Interval, Counters: c.Counters.SessionPart()))
                .Concat(agentCells.Select(c => (c.Cell.Interval, Counters: c.Counters.TimePart())))
                .GroupBy(c => c.Interval)
                .OrderBy(g => g.Key)
                .Select(g => (g.Key.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), KpiCounters.Sum(g.Select(c => c.Counters)))),
        };

        return new ClusterStatsReport(
            KpiIntervals.Start(from),
            to,
            at,
            groupBy,
            total,
            await lives,
            [.. groupBy == StatsGroupBy.Interval ? groups : groups.OrderBy(g => g.Key, StringComparer.Ordinal)]);
    }

    private static KpiCounters SumOf(IEnumerable<StatsCellCounts> cells, Breakdown breakdown) =>
        KpiCounters.Sum(cells.Where(c => c.Cell.Breakdown == breakdown).Select(c => c.Counters));

    private static Dictionary<string, KpiCounters> ByValue(IEnumerable<StatsCellCounts> cells, Breakdown breakdown) =>
        cells.Where(c => c.Cell.Breakdown == breakdown)
            .GroupBy(c => c.Cell.Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => KpiCounters.Sum(g.Select(c => c.Counters)), StringComparer.Ordinal);
}
