namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// Tells grain storage that a grain is being created under a key nobody has used yet (a session id the gateway has
/// just generated), so the activation that the create call starts needs no read: there is no row to find. The mark
/// travels with the call in Orleans' request context, which the activation imports while it reads its state, so it
/// works on whichever silo the grain is placed. It names one key; every other grain reads as usual.
/// </summary>
/// <remarks>
/// Skipping the read can never lose data: the grain starts empty and its first write is a create (no ETag), which the
/// storages refuse over an existing row (<see cref="Orleans.Storage.InconsistentStateException"/>), so a key that did
/// exist after all resets the activation, and the next one reads.
/// </remarks>
public static class FreshGrainKey
{
    private const string ContextKey = "routing.fresh-key";

    /// <summary>Marks <paramref name="key"/> as new for the calls made until the returned scope is disposed.</summary>
    public static Scope Mark(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        RequestContext.Set(ContextKey, key);
        return default;
    }

    /// <summary>Whether the call being served (or the activation it started) created <paramref name="grainId"/> under a new key.</summary>
    public static bool IsFresh(GrainId grainId) =>
        RequestContext.Get(ContextKey) is string key && string.Equals(grainId.Key.ToString(), key, StringComparison.Ordinal);

    /// <summary>Removes the mark from the caller's request context.</summary>
    public readonly struct Scope : IDisposable
    {
        public void Dispose() => RequestContext.Remove(ContextKey);
    }
}
