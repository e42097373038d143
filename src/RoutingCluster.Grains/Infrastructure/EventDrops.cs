using Microsoft.Extensions.Logging;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// The events this silo could not deliver to a follower (a session's follower that failed or is gone, a follower too
/// slow to keep up): counted per kind (<c>routing.events.dropped</c>, tag <c>stream</c>: <c>session</c>) and
/// reported in a warning at most once per <see cref="ReportEvery"/> of routing time, with how many since the
/// last report and the latest cause, so an overload shows in the log without flooding it.
/// </summary>
public sealed class EventDrops(RoutingMetrics metrics, RoutingClock clock, ILogger<EventDrops> logger)
{
    /// <summary>The shortest time between two warnings about dropped events.</summary>
    public static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private long _total;
    private long _unreported;
    private DateTimeOffset _lastReport = DateTimeOffset.MinValue;

    /// <summary>Events dropped since this silo started.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Dropped(string streamNamespace, Exception cause)
    {
        metrics.EventDropped(streamNamespace);
        Interlocked.Increment(ref _total);
        long count;
        lock (_gate)
        {
            _unreported++;
            var now = clock.Now;
            if (now - _lastReport < ReportEvery)
            {
                return;
            }

            _lastReport = now;
            count = _unreported;
            _unreported = 0;
        }

        logger.EventsDropped(count, cause.GetType().Name, cause.Message);
    }
}
