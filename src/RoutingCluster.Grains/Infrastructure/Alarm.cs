namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// One wake-up per grain at the earliest instant something is due, on the routing clock. When it rings it
/// calls the grain through its own reference, so the work runs as an ordinary turn of that grain (and
/// reactivates it if it was collected). Setting a new instant replaces the old one.
/// </summary>
public sealed class Alarm(RoutingClock clock, WorkTracker tracker, Func<Task> wake, Action<Exception> onError, string label) : IDisposable
{
    private ITimer? _timer;

    public DateTimeOffset? At { get; private set; }

    public void Set(DateTimeOffset? at)
    {
        if (at == At)
        {
            return;
        }

        _timer?.Dispose();
        _timer = null;
        At = at;
        if (at is not { } due)
        {
            return;
        }

        var delay = due - clock.Now;
        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }

        _timer = clock.Time.CreateTimer(_ => Ring(), null, delay, Timeout.InfiniteTimeSpan);
    }

    private void Ring()
    {
        // Work is counted from the moment the alarm rings, before the call reaches the grain.
        tracker.Track(wake, onError, label);
    }

    /// <summary>Called first thing when the grain wakes, so the next <see cref="Set"/> always arms a timer.</summary>
    public void Clear() => Set(null);

    public void Dispose()
    {
        _timer?.Dispose();
        _timer = null;
    }
}
