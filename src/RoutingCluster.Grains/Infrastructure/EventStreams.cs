using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// Publishes a grain's events to its stream of the <see cref="RoutingStreams.Provider"/> provider. A silo
/// without that provider (a benchmark, the simulator) publishes nothing.
/// <para>
/// Events are notifications, best effort: the grain's state is written before its event is published, and it
/// stays the authority (a gateway reads it with <c>GET /v1/sessions/{id}</c>, and the server-sent events of a session
/// read it again whenever they have been quiet). An event the stream refuses (its queue full under overload,
/// a silo gone) is counted and dropped (<see cref="EventDrops"/>): it never fails the routing step that
/// published it, which has already happened.
/// </para>
/// </summary>
internal sealed class EventStream<T>(IServiceProvider services, string streamNamespace, string key)
{
    private IAsyncStream<T>? _stream;
    private EventDrops? _drops;
    private bool _resolved;

    public Task PublishAsync(T item)
    {
        if (!_resolved)
        {
            _resolved = true;
            var provider = services.GetKeyedService<IStreamProvider>(RoutingStreams.Provider);
            _stream = provider?.GetStream<T>(StreamId.Create(streamNamespace, key));
            _drops = services.GetService<EventDrops>();
        }

        if (_stream is null)
        {
            return Task.CompletedTask;
        }

        Task published;
        try
        {
            published = _stream.OnNextAsync(item);
        }
#pragma warning disable CA1031 // Whatever refused the event, the routing step that published it stands.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Dropped(e);
            return Task.CompletedTask;
        }

        return published.IsCompletedSuccessfully ? Task.CompletedTask : AwaitPublished(published);
    }

    private async Task AwaitPublished(Task published)
    {
        try
        {
            await published;
        }
#pragma warning disable CA1031 // As above: a refused event is dropped, not the routing step's failure.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Dropped(e);
        }
    }

    private void Dropped(Exception e) => _drops?.Dropped(streamNamespace, e);
}

/// <summary>
/// The events this silo's streams refused: counted per stream namespace (<c>routing.events.dropped</c>) and
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
