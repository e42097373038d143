using System.Collections.Concurrent;
using System.Globalization;

namespace RoutingCluster.LoadTests.Takeover;

/// <summary>
/// What the drill's clients were told, and when (Unix milliseconds of this machine's clock, the clock the script that
/// kills site A writes the kill's time with): every create answered 2xx, in the order the gateway sent them (one at a
/// time), every offer a desktop saw, every accept and end answered 200. The figures of the drill come from here, not
/// from the product's records.
/// </summary>
internal sealed class TakeoverLedger : IDisposable
{
    private readonly TextWriter? _trace;
    private readonly ConcurrentDictionary<string, CreatedSession> _created = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SeenOffer> _firstOffers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, long>> _accepts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, long>> _ends = new(StringComparer.Ordinal);
    private long _firstAcceptAtSiteB = -1;
    private long _killedAt = -1;

    /// <param name="trace">Where every event goes as it happens, one line each (null: nowhere).</param>
    public TakeoverLedger(string? trace = null)
    {
        _trace = trace is null ? null : TextWriter.Synchronized(new StreamWriter(trace, append: false) { AutoFlush = true });
    }

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>One line in the trace: this machine's time (Unix ms), then what happened.</summary>
    public void Trace(string what) => _trace?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Now} {what}"));

    public void Dispose() => _trace?.Dispose();

    /// <summary>The kill's time (Unix ms), once the script has written it; -1 before.</summary>
    public long KilledAt => Interlocked.Read(ref _killedAt);

    public int Acknowledged => _created.Count;

    public IReadOnlyCollection<CreatedSession> Created => [.. _created.Values.OrderBy(c => c.Index)];

    public void Killed(long at)
    {
        Interlocked.CompareExchange(ref _killedAt, at, -1);
        Trace(string.Create(CultureInfo.InvariantCulture, $"killed-at {at}"));
    }

    public void Create(int index, string sessionId, long at)
    {
        _created.TryAdd(sessionId, new CreatedSession(index, sessionId, at));
        Trace(string.Create(CultureInfo.InvariantCulture, $"created {index} {sessionId}"));
    }

    /// <summary>The first offer of a session any desktop saw: pushed, or listed in the agent's view.</summary>
    public void Offer(string sessionId, string agentId, DateTimeOffset offeredAt)
    {
        _firstOffers.TryAdd(sessionId, new SeenOffer(agentId, offeredAt.ToUnixTimeMilliseconds(), Now));
        Trace(string.Create(CultureInfo.InvariantCulture, $"offer {sessionId} to {agentId} offered-at {offeredAt.ToUnixTimeMilliseconds()}"));
    }

    /// <summary>An accept answered 200, by a silo of site B or not (the desktop's silo when it was answered).</summary>
    public void Accept(string sessionId, string agentId, bool atSiteB)
    {
        var at = Now;
        _accepts.GetOrAdd(sessionId, _ => new(StringComparer.Ordinal)).TryAdd(agentId, at);
        Trace($"accepted {sessionId} by {agentId}{(atSiteB ? " at site B" : string.Empty)}");
        if (atSiteB)
        {
            Interlocked.CompareExchange(ref _firstAcceptAtSiteB, at, -1);
        }
    }

    public void End(string sessionId, string agentId)
    {
        _ends.GetOrAdd(sessionId, _ => new(StringComparer.Ordinal)).TryAdd(agentId, Now);
        Trace($"ended {sessionId} by {agentId}");
    }

    /// <summary>The first accept a silo of site B answered (Unix ms), -1 if none.</summary>
    public long FirstAcceptAtSiteB => Interlocked.Read(ref _firstAcceptAtSiteB);

    /// <summary>The agents whose accept of the session was answered 200, with when.</summary>
    public IReadOnlyDictionary<string, long> AcceptsOf(string sessionId) =>
        _accepts.TryGetValue(sessionId, out var accepts) ? accepts : new Dictionary<string, long>();

    public IReadOnlyDictionary<string, long> EndsOf(string sessionId) =>
        _ends.TryGetValue(sessionId, out var ends) ? ends : new Dictionary<string, long>();

    public SeenOffer? FirstOffer(string sessionId) => _firstOffers.GetValueOrDefault(sessionId);

    /// <summary>Sessions accepted by two different agents, as the desktops were answered.</summary>
    public int DoubleAssigned => _accepts.Values.Count(a => a.Count > 1);
}

/// <summary>A create answered 2xx: its place in the gateway's sequence, and when the answer came.</summary>
internal sealed record CreatedSession(int Index, string SessionId, long AcknowledgedAt);

/// <summary>An offer a desktop saw: to whom, when the server made it and when the desktop saw it (Unix ms).</summary>
internal sealed record SeenOffer(string AgentId, long OfferedAt, long SeenAt);
