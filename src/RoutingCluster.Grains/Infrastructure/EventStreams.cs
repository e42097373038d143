using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using RoutingCluster.Abstractions.Events;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// Publishes a grain's events to its stream of the <see cref="RoutingStreams.Provider"/> provider. A silo
/// without that provider (a benchmark, the simulator) publishes nothing.
/// </summary>
internal sealed class EventStream<T>(IServiceProvider services, string streamNamespace, string key)
{
    private IAsyncStream<T>? _stream;
    private bool _resolved;

    public Task PublishAsync(T item)
    {
        if (!_resolved)
        {
            _resolved = true;
            var provider = services.GetKeyedService<IStreamProvider>(RoutingStreams.Provider);
            _stream = provider?.GetStream<T>(StreamId.Create(streamNamespace, key));
        }

        return _stream?.OnNextAsync(item) ?? Task.CompletedTask;
    }
}
