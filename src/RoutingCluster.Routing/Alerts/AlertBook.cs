namespace RoutingCluster.Routing.Alerts;

/// <summary>
/// The active alerts of the queues and their raise/clear rule, as plain state driven by checks: an alert is raised
/// at the first check in which its condition holds, and cleared at the first check in which the condition has not
/// held for <see cref="ClearAfter"/> (a queue that dips back into bounds for a moment keeps its alert and its
/// <c>since</c>). An alert whose bound is removed, or whose queue is gone, is cleared at the next check. Not thread
/// safe: one checker calls <see cref="Check"/>; readers take <see cref="Active"/>, an immutable list.
/// </summary>
public sealed class AlertBook
{
    /// <summary>How long a condition must have stopped holding before its alert clears.</summary>
    public static readonly TimeSpan ClearAfter = TimeSpan.FromSeconds(10);

    private readonly Dictionary<(string QueueId, AlertKind Kind), Entry> _entries = [];

    /// <summary>The active alerts, ordered by queue and kind.</summary>
    public IReadOnlyList<ActiveAlert> Active { get; private set; } = [];

    /// <summary>
    /// Checks every queue's figures against its bounds at <paramref name="now"/> and answers the alerts raised and
    /// cleared. <paramref name="queues"/> holds every queue that has bounds; a queue absent from it has none.
    /// </summary>
    public IReadOnlyList<AlertChange> Check(IEnumerable<(string QueueId, AlertBounds Bounds, AlertFigures Figures)> queues, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var changes = new List<AlertChange>();
        var seen = new HashSet<(string, AlertKind)>();
        foreach (var (queueId, bounds, figures) in queues)
        {
            foreach (var kind in Enum.GetValues<AlertKind>())
            {
                if (bounds.Of(kind) is not { } threshold)
                {
                    continue;
                }

                var key = (queueId, kind);
                seen.Add(key);
                var value = figures.Of(kind);
                var holds = value is { } v && AlertBounds.Breaks(kind, v, threshold);
                if (_entries.TryGetValue(key, out var entry))
                {
                    entry.Threshold = threshold;
                    entry.Value = value ?? entry.Value;
                    if (holds)
                    {
                        entry.LastHeld = now;
                    }
                    else if (now - entry.LastHeld >= ClearAfter)
                    {
                        _entries.Remove(key);
                        changes.Add(new AlertChange(entry.ToAlert(queueId, kind), Raised: false));
                    }
                }
                else if (holds)
                {
                    entry = new Entry { Since = now, LastHeld = now, Value = value!.Value, Threshold = threshold };
                    _entries[key] = entry;
                    changes.Add(new AlertChange(entry.ToAlert(queueId, kind), Raised: true));
                }
            }
        }

        foreach (var gone in _entries.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            changes.Add(new AlertChange(_entries[gone].ToAlert(gone.QueueId, gone.Kind), Raised: false));
            _entries.Remove(gone);
        }

        Active = [.. _entries
            .OrderBy(e => e.Key.QueueId, StringComparer.Ordinal).ThenBy(e => e.Key.Kind)
            .Select(e => e.Value.ToAlert(e.Key.QueueId, e.Key.Kind))];
        return changes;
    }

    private sealed class Entry
    {
        public DateTimeOffset Since { get; init; }

        public DateTimeOffset LastHeld { get; set; }

        public double Value { get; set; }

        public double Threshold { get; set; }

        public ActiveAlert ToAlert(string queueId, AlertKind kind) => new(queueId, kind, Value, Threshold, Since);
    }
}
