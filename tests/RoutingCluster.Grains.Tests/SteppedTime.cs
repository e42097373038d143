namespace RoutingCluster.Grains.Tests;

/// <summary>
/// Virtual time that moves only when told, and fires its timers one at a time, each at its own due instant (earliest
/// first; at the same instant, in the order they were set). A test can then let the cluster settle after every timer,
/// so that no two timers' work runs at once.
/// </summary>
public sealed class SteppedTime(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<SteppedTimer> _timers = [];
    private DateTimeOffset _now = start;
    private long _sequence;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SteppedTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>When the next timer is due (null: none is set).</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count == 0 ? null : _timers.Min(t => t.Due);
            }
        }
    }

    /// <summary>Moves time forward to <paramref name="instant"/> without firing anything (time never goes back).</summary>
    public void MoveTo(DateTimeOffset instant)
    {
        lock (_lock)
        {
            if (instant > _now)
            {
                _now = instant;
            }
        }
    }

    /// <summary>Fires the earliest timer, with time moved to its due instant. Returns false when none is set.</summary>
    public bool FireNext()
    {
        SteppedTimer? next;
        lock (_lock)
        {
            next = _timers.OrderBy(t => t.Due).ThenBy(t => t.Sequence).FirstOrDefault();
            if (next is null)
            {
                return false;
            }

            if (next.Due > _now)
            {
                _now = next.Due;
            }

            if (next.Period > TimeSpan.Zero)
            {
                next.Due += next.Period;
                next.Sequence = ++_sequence;
            }
            else
            {
                _timers.Remove(next);
            }
        }

        next.Callback(next.State);
        return true;
    }

    private sealed class SteppedTimer(SteppedTime time, TimerCallback callback, object? state) : ITimer
    {
        public TimerCallback Callback { get; } = callback;

        public object? State { get; } = state;

        public DateTimeOffset Due { get; set; }

        public TimeSpan Period { get; private set; }

        public long Sequence { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (time._lock)
            {
                time._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }

                Due = time._now + (dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime);
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                Sequence = ++time._sequence;
                time._timers.Add(this);
                return true;
            }
        }

        public void Dispose()
        {
            lock (time._lock)
            {
                time._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
