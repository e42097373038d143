using RoutingCluster.Abstractions.Metrics;

namespace RoutingCluster.Grains.Metrics;

/// <summary>
/// The cells a statistics grain holds in memory (every interval from <see cref="HeldFrom"/> on), the ones changed
/// since they were last written, and the agents' activities still going on. Data and arithmetic only.
/// </summary>
internal sealed class StatsBook
{
    private readonly Dictionary<StatsCell, KpiCounters> _cells = [];
    private readonly HashSet<StatsCell> _dirty = [];

    public DateTimeOffset HeldFrom { get; private set; } = DateTimeOffset.MaxValue;

    public Dictionary<string, AgentActivityMark> Activities { get; } = new(StringComparer.Ordinal);

    public bool IsDirty => _dirty.Count > 0;

    /// <summary>How many cells changed since they were last written.</summary>
    public int DirtyCount => _dirty.Count;

    public void Load(IEnumerable<StatsCellCounts> cells, DateTimeOffset heldFrom)
    {
        foreach (var cell in cells)
        {
            _cells[cell.Cell] = cell.Counters.Copy();
        }

        HeldFrom = heldFrom;
    }

    public void Apply(StatsBatch batch)
    {
        foreach (var cell in batch.Cells)
        {
            if (!_cells.TryGetValue(cell.Cell, out var sum))
            {
                _cells[cell.Cell] = sum = new KpiCounters();
            }

            sum.Add(cell.Counters);
            _dirty.Add(cell.Cell);
        }

        foreach (var mark in batch.Activities)
        {
            // Marks of one agent can come from two silos (its grain moved): the latest instant wins.
            if (Activities.TryGetValue(mark.AgentId, out var known) && known.Since > mark.Since)
            {
                continue;
            }

            if (mark.Activity == AgentActivity.LoggedOut)
            {
                Activities.Remove(mark.AgentId);
            }
            else
            {
                Activities[mark.AgentId] = mark;
            }
        }
    }

    /// <summary>Copies of the changed cells, to write; they count as written unless <see cref="Unwritten"/> says otherwise.</summary>
    public List<StatsCellCounts> TakeDirty()
    {
        var cells = _dirty.Select(c => new StatsCellCounts(c, _cells[c].Copy())).ToList();
        _dirty.Clear();
        return cells;
    }

    public void Unwritten(IEnumerable<StatsCellCounts> cells) => _dirty.UnionWith(cells.Select(c => c.Cell));

    /// <summary>Forgets written cells of intervals before <paramref name="before"/> (queries read them from the store).</summary>
    public void Evict(DateTimeOffset before)
    {
        foreach (var cell in _cells.Keys.Where(c => c.Interval < before && !_dirty.Contains(c)).ToList())
        {
            _cells.Remove(cell);
        }

        if (HeldFrom < before)
        {
            HeldFrom = before;
        }
    }

    public IEnumerable<StatsCellCounts> Held(DateTimeOffset from, DateTimeOffset to) =>
        _cells.Where(c => c.Key.Interval >= from && c.Key.Interval < to).Select(c => new StatsCellCounts(c.Key, c.Value));

    /// <summary>
    /// Sums <paramref name="cells"/> and the time of the activities still going on (up to <paramref name="now"/>) as the
    /// query asks: over the intervals that overlap [From, To), per owner (or all owners as "*"), per interval or not.
    /// An activity's time goes to the owner <paramref name="ownerOf"/> names (the agent, or the queue it serves).
    /// </summary>
    public static List<StatsCellCounts> Sum(IEnumerable<StatsCellCounts> cells, IEnumerable<AgentActivityMark> activities,
        Func<AgentActivityMark, string> ownerOf, StatsQuery query, DateTimeOffset now)
    {
        var from = KpiIntervals.Start(query.From);
        var sums = new Dictionary<StatsCell, KpiCounters>();
        void Add(StatsCell cell, Action<KpiCounters> add)
        {
            var key = cell with
            {
                Owner = query.SumOwners ? "*" : cell.Owner,
                Interval = query.Grouping == StatsGrouping.Interval ? cell.Interval : from,
            };
            if (!sums.TryGetValue(key, out var sum))
            {
                sums[key] = sum = new KpiCounters();
            }

            add(sum);
        }

        foreach (var cell in cells)
        {
            if (cell.Cell.Interval >= from && cell.Cell.Interval < query.To && (query.Owner is null || cell.Cell.Owner == query.Owner))
            {
                Add(cell.Cell, s => s.Add(cell.Counters));
            }
        }

        var until = now < query.To ? now : query.To;
        foreach (var mark in activities)
        {
            var owner = ownerOf(mark);
            if (query.Owner is not null && owner != query.Owner)
            {
                continue;
            }

            var since = mark.Since > from ? mark.Since : from;
            foreach (var (interval, ticks) in KpiIntervals.Split(since, until))
            {
                Add(StatsCell.Total(owner, interval), s => s.AddTime(mark.Activity, ticks));
            }
        }

        return [.. sums.Select(s => new StatsCellCounts(s.Key, s.Value))];
    }
}
