using RoutingCluster.Abstractions.Events;

namespace RoutingCluster.Grains.Agents;

/// <summary>
/// The desktops connected to one agent, by connection, with the relay of the silo each is connected through. Not
/// persisted: desktops renew their connection periodically, and a reactivated grain learns them again. When the last
/// desktop goes, a grace period starts; an agent still without a desktop when it ends is set not ready by its grain.
/// <para>
/// Pushes are one-way (<see cref="IAgentDesktopObserver.OnAgentUpdateAsync"/>): the grain neither waits for a desktop nor
/// hears whether a push arrived, so a relay on a silo that died cannot hold it up. A desktop that lost its silo connects
/// again through another one (a new connection, registered anew); the entry of the lost one goes with this activation.
/// </para>
/// </summary>
internal sealed class AgentDesktops(string agentId)
{
    private readonly Dictionary<string, IAgentDesktopObserver> _relays = new(StringComparer.Ordinal);

    /// <summary>Whether any desktop is connected.</summary>
    public bool Any => _relays.Count > 0;

    /// <summary>When the grace period after the last desktop left ends (null: a desktop is connected, or none ever left).</summary>
    public DateTimeOffset? GraceUntil { get; private set; }

    /// <summary>Records the desktop; returns whether it is new to this activation (signing in, or registered again by its
    /// relay after the grain moved here).</summary>
    public bool Connect(string connectionId, IAgentDesktopObserver relay)
    {
        var known = _relays.ContainsKey(connectionId);
        _relays[connectionId] = relay;
        GraceUntil = null;
        return !known;
    }

    /// <summary>Forgets the desktop; the last one to go starts the grace period.</summary>
    public void Disconnect(string connectionId, DateTimeOffset graceUntil)
    {
        if (_relays.Remove(connectionId) && _relays.Count == 0)
        {
            GraceUntil = graceUntil;
        }
    }

    /// <summary>Whether the grace period ended with no desktop back (it is then over).</summary>
    public bool GraceEnded(DateTimeOffset now)
    {
        if (GraceUntil <= now && _relays.Count == 0)
        {
            GraceUntil = null;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Whether a desktop had the offer of <paramref name="sessionId"/> at least <paramref name="window"/> before it
    /// expired (at most half the offer's own time, so a queue with short offers still holds its agents to them), as the
    /// relays say (each asked at most <paramref name="timeout"/>; one that does not answer says no). With no desktop
    /// connected the answer is yes: an agent working through the HTTP API is held to its offers.
    /// </summary>
    public async Task<bool> HadFairChanceAsync(string sessionId, DateTimeOffset offeredAt, DateTimeOffset expiresAt, TimeSpan window, TimeSpan timeout)
    {
        if (_relays.Count == 0)
        {
            return true;
        }

        var half = (expiresAt - offeredAt) / 2;
        if (half < window)
        {
            window = half;
        }

        var answers = await Task.WhenAll(_relays.Values.Distinct().Select(async relay =>
        {
            try
            {
                return await relay.OfferShownAtAsync(agentId, sessionId).WaitAsync(timeout);
            }
            catch (Exception exception) when (exception is TimeoutException or OrleansException or ObjectDisposedException)
            {
                return null;
            }
        }));
        return answers.Any(shownAt => shownAt is { } at && at <= expiresAt - window);
    }

    /// <summary>Pushes the update to every desktop (one-way: a relay on a silo that died cannot hold up the agent).
    /// Each relay once: it sends the update to every desktop of the agent connected through its silo, so a relay listed
    /// for two connections (a desktop that reconnected before its old connection was known gone) would show every
    /// offer twice.</summary>
    public void Push(AgentUpdate update)
    {
        foreach (var relay in _relays.Values.Distinct())
        {
            relay.OnAgentUpdateAsync(update).Ignore();
        }
    }

    /// <summary>Pushes the update to one desktop.</summary>
    public void Push(string connectionId, AgentUpdate update)
    {
        if (_relays.TryGetValue(connectionId, out var relay))
        {
            relay.OnAgentUpdateAsync(update).Ignore();
        }
    }

    /// <summary>The grain is deactivating: each relay is told (one-way, so a relay on a silo that is gone does not hold
    /// it up), and registers its desktops again with the next activation.</summary>
    public void Deactivating()
    {
        foreach (var relay in _relays.Values.Distinct())
        {
            relay.OnAgentDeactivatingAsync(agentId).Ignore();
        }
    }
}
