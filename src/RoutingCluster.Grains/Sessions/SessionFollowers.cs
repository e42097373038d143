using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Sessions;

/// <summary>
/// Who follows one session (its gateway's server-sent events), each for a lease it renews by following again. Not
/// persisted: a follower renews well within its lease, so a reactivated session learns its followers again. A session
/// nobody follows pushes nothing and costs nothing.
/// <para>
/// Pushes go beside the grain's turn (a follower on a silo that died must not hold up the session) and are best effort:
/// a push that fails is counted as a dropped event (<see cref="EventDrops"/>) and its follower forgotten; the session's
/// state stays the authority, and a follower reads it again when it has been quiet.
/// </para>
/// </summary>
internal sealed class SessionFollowers(WorkTracker tracker, EventDrops? drops)
{
    /// <summary>How long a follower stays registered without renewing. Followers renew at least every 15 s
    /// (the server-sent events' quiet period), so a lease outlives a few missed renewals.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    /// <summary>The drop counter's tag for these events.</summary>
    public const string Kind = "session";

    private Dictionary<ISessionFollower, DateTimeOffset>? _leases;

    /// <summary>Whether anyone follows the session now.</summary>
    public bool Any(DateTimeOffset now)
    {
        Expire(now);
        return _leases is { Count: > 0 };
    }

    /// <summary>Registers the follower or renews its lease; returns whether the session had no follower before.</summary>
    public bool Follow(ISessionFollower follower, DateTimeOffset now)
    {
        var first = !Any(now);
        (_leases ??= []).Remove(follower);
        _leases[follower] = now + Lease;
        return first;
    }

    /// <summary>Forgets the follower; returns whether the session has no follower left.</summary>
    public bool Unfollow(ISessionFollower follower, DateTimeOffset now)
    {
        _leases?.Remove(follower);
        return !Any(now);
    }

    /// <summary>Pushes the update to every follower whose lease runs.</summary>
    public void Push(SessionUpdate update, DateTimeOffset now)
    {
        if (!Any(now))
        {
            return;
        }

        foreach (var follower in _leases!.Keys)
        {
            tracker.Track(() => follower.OnSessionUpdateAsync(update), ex =>
            {
                drops?.Dropped(Kind, ex);
                _leases.Remove(follower);
            }, "push to a session follower");
        }
    }

    private void Expire(DateTimeOffset now)
    {
        if (_leases is not { Count: > 0 })
        {
            return;
        }

        foreach (var (follower, until) in _leases)
        {
            if (until <= now)
            {
                _leases.Remove(follower);
            }
        }
    }
}
