using System.Collections.Concurrent;

namespace RoutingCluster.Grains.Tests;

/// <summary>Collects what a stream or an observer delivers, and waits (bounded) for a matching item.</summary>
public sealed class Mailbox<T>
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly SemaphoreSlim _signal = new(0);

    public IReadOnlyList<T> Items => [.. _items];

    public void Add(T item)
    {
        _items.Enqueue(item);
        _signal.Release();
    }

    public async Task<T> WaitFor(Func<T, bool> predicate)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (_items.FirstOrDefault(predicate) is { } found)
            {
                return found;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _signal.WaitAsync(left))
            {
                throw new TimeoutException($"No matching {typeof(T).Name} among {_items.Count} received.");
            }
        }
    }
}
