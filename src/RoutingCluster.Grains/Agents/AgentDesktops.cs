using Microsoft.Extensions.Logging;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Agents;

/// <summary>
/// The desktops connected to one agent, by connection, with the relay of the silo each is connected through. Not
/// persisted: desktops renew their connection periodically, and a reactivated grain learns them again. When the last
/// desktop goes, a grace period starts; an agent still without a desktop when it ends is set not ready by its grain.
/// </summary>
internal sealed class AgentDesktops(WorkTracker tracker, ILogger logger, string agentId)
{
    private readonly Dictionary<string, IAgentDesktopObserver> _relays = new(StringComparer.Ordinal);

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

    /// <summary>Pushes the update to every desktop, beside the grain's turn: a relay on a silo that died must not hold up
    /// the agent. A desktop whose relay fails is forgotten (its relay registers it again when it can).</summary>
    public void Push(AgentUpdate update)
    {
        foreach (var (connection, relay) in _relays)
        {
            Push(connection, relay, update);
        }
    }

    /// <summary>Pushes the update to one desktop.</summary>
    public void Push(string connectionId, AgentUpdate update)
    {
        if (_relays.TryGetValue(connectionId, out var relay))
        {
            Push(connectionId, relay, update);
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

    private void Push(string connectionId, IAgentDesktopObserver relay, AgentUpdate update) =>
        tracker.Track(() => relay.OnAgentUpdateAsync(update), ex =>
        {
            logger.BackgroundWorkFailed(ex, agentId);
            _relays.Remove(connectionId);
        });
}
