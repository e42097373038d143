using System.Collections.Concurrent;
using RoutingCluster.Abstractions.Metrics;

namespace RoutingCluster.Grains.Metrics;

/// <summary>Whose cells a statistics grain keeps: a queue's (owner = queue id) or an agent shard's (owner = agent id).</summary>
public enum StatsOwnerKind
{
    Queue,
    Agent,
}

/// <summary>
/// Where statistics grains keep their 15-minute intervals: absolute values per cell, written by the one grain that
/// owns them (<paramref name="grainKey"/>: the queue id, or the agent shard), so a write replaces and never adds.
/// </summary>
public interface IStatsStore
{
    Task SaveAsync(StatsOwnerKind kind, string grainKey, IReadOnlyList<StatsCellCounts> cells, CancellationToken cancellationToken = default);

    /// <summary>The cells of the grain whose interval starts in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    Task<IReadOnlyList<StatsCellCounts>> LoadAsync(StatsOwnerKind kind, string grainKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);
}

/// <summary>The store of a cluster without a database (memory storage): it lives as long as the silo process.</summary>
public sealed class MemoryStatsStore : IStatsStore
{
    private readonly ConcurrentDictionary<(StatsOwnerKind Kind, string GrainKey), ConcurrentDictionary<StatsCell, KpiCounters>> _grains = new();

    public Task SaveAsync(StatsOwnerKind kind, string grainKey, IReadOnlyList<StatsCellCounts> cells, CancellationToken cancellationToken = default)
    {
        var table = _grains.GetOrAdd((kind, grainKey), _ => new());
        foreach (var cell in cells)
        {
            table[cell.Cell] = cell.Counters.Copy();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StatsCellCounts>> LoadAsync(StatsOwnerKind kind, string grainKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<StatsCellCounts> cells = _grains.TryGetValue((kind, grainKey), out var table)
            ? [.. table.Where(c => c.Key.Interval >= from && c.Key.Interval < to).Select(c => new StatsCellCounts(c.Key, c.Value.Copy()))]
            : [];
        return Task.FromResult(cells);
    }
}

/// <summary>
/// This silo's statistics grains whose changed intervals are not written to the <see cref="IStatsStore"/> yet, with how
/// many cells each: what a silo that ends without deactivating its grains (killed, or stopped by the shutdown watchdog)
/// loses from the stored figures. Updated once per batch applied and per write, never per session.
/// </summary>
public sealed class UnwrittenStats
{
    private readonly ConcurrentDictionary<(StatsOwnerKind Kind, string Key), int> _grains = new();

    public void Pending(StatsOwnerKind kind, string grainKey, int cells) => _grains[(kind, grainKey)] = cells;

    public void Written(StatsOwnerKind kind, string grainKey) => _grains.TryRemove((kind, grainKey), out _);

    /// <summary>The grains with unwritten cells now, by kind and key.</summary>
    public IReadOnlyList<(StatsOwnerKind Kind, string GrainKey, int Cells)> Now() =>
        [.. _grains.Select(g => (g.Key.Kind, g.Key.Key, g.Value)).OrderBy(g => g.Kind).ThenBy(g => g.Key, StringComparer.Ordinal)];
}
