using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// How many session event streams each caller holds open on this silo (<see cref="RateLimitOptions.EventStreamsPerCaller"/>):
/// a gateway by its <c>client_id</c>, anyone else by its <c>sub</c>. A stream takes a place when it opens and gives it
/// back when it ends.
/// </summary>
public sealed class EventStreamLimits(IOptions<RateLimitOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int Limit => options.Value.EventStreamsPerCaller;

    /// <summary>The caller's place for one more stream (dispose it when the stream ends), or null when it holds
    /// <see cref="Limit"/> already.</summary>
    public IAsyncDisposable? TryOpen(ClaimsPrincipal user, out string caller)
    {
        caller = user.IsInRole(Roles.Gateway) ? $"gateway {AccessClaims.GatewayOf(user)}" : $"{AccessClaims.SubjectOf(user)}";
        var key = caller;
        var open = _open.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (open <= Limit)
        {
            return new Place(this, key);
        }

        Close(key);
        return null;
    }

    /// <summary>Streams open now for <paramref name="caller"/> (as <see cref="TryOpen"/> names it).</summary>
    public int OpenFor(string caller) => _open.GetValueOrDefault(caller);

    private void Close(string key)
    {
        if (_open.AddOrUpdate(key, 0, (_, n) => n - 1) <= 0)
        {
            _open.TryRemove(new KeyValuePair<string, int>(key, 0));
        }
    }

    private sealed class Place(EventStreamLimits limits, string key) : IAsyncDisposable
    {
        private int _closed;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                limits.Close(key);
            }

            return ValueTask.CompletedTask;
        }
    }
}
