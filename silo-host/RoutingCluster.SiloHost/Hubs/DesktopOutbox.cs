using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>
/// What this silo still has to push to the agent desktops connected to it, per agent, in order. The relay hands an
/// update over and returns at once: Orleans runs an observer's calls one at a time, so a relay that awaited each
/// SignalR send would make every desktop of the silo wait behind the slowest one (under load, offers reached
/// desktops seconds late that way). Here each agent's updates go out by themselves, in the order they came, while
/// other agents' go out beside them.
/// </summary>
/// <remarks>
/// Bounded: an agent whose desktop falls behind has at most <see cref="MaxPendingPerAgent"/> updates waiting. A new
/// view (<see cref="AgentEventType.Changed"/>) replaces a view still waiting behind it (it shows everything the older
/// one did); past the bound the oldest waiting view goes, then the oldest update. An offer that has expired by the
/// time it would be sent is not sent (the agent's next view shows it gone; its expiry is pushed on its own).
/// </remarks>
internal sealed class DesktopOutbox(IHubContext<AgentHub> hub, RoutingClock clock)
{
    /// <summary>At most this many updates of one agent wait to be pushed.</summary>
    public const int MaxPendingPerAgent = 32;

    /// <summary>How long after an offer expires the outbox still remembers when it sent it: the agent grain asks when
    /// the offer expires unanswered, later only if its turn is late. So the record holds the offers in flight, not every
    /// offer of the last minutes.</summary>
    public static readonly TimeSpan ShownRetention = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, AgentQueue> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Agent, string Session), (DateTimeOffset At, DateTimeOffset Until)> _shown = new();
    private long _dropped;
    private long _prunedAt;

    /// <summary>Updates dropped because an agent's desktop fell behind, or offers that expired before they were sent.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Updates waiting now, all agents together.</summary>
    public int Waiting => _queues.Values.Sum(q => q.Count);

    /// <summary>When the offer of <paramref name="sessionId"/> went out to <paramref name="agentId"/>'s desktops on this
    /// silo (null: it did not, or too long ago to remember).</summary>
    public DateTimeOffset? ShownAt(string agentId, string sessionId) =>
        _shown.TryGetValue((agentId, sessionId), out var shown) ? shown.At : null;

    /// <summary>Queues the update for the agent's desktops <paramref name="connectionIds"/>, behind the agent's earlier
    /// updates; starts sending if nothing is being sent for the agent.</summary>
    public void Post(AgentUpdate update, string[] connectionIds)
    {
        var queue = _queues.GetOrAdd(update.AgentId, static _ => new AgentQueue());
        if (queue.Add(new Pending(update, connectionIds), ref _dropped))
        {
            _ = Task.Run(() => DrainAsync(queue));
        }
    }

    private async Task DrainAsync(AgentQueue queue)
    {
        while (queue.Next() is { } next)
        {
            var (update, connections) = next;
            if (update.Type == AgentEventType.Offer && update.Offer is { } offer && clock.Now >= offer.ExpiresAt)
            {
                Interlocked.Increment(ref _dropped);
                continue;
            }

            // One connection at a time, each found by its id: Clients(ids) would look at every desktop connected to the
            // silo for each update (thousands per update when a few hundred agents are pushed to each second).
            var delivered = false;
            foreach (var connection in connections)
            {
                try
                {
                    var client = hub.Clients.Client(connection);
                    await (update.Type switch
                    {
                        AgentEventType.Offer => client.SendAsync(AgentHub.Events.Offer, update.Offer, update.Agent),
                        AgentEventType.OfferWithdrawn => client.SendAsync(AgentHub.Events.OfferWithdrawn, update.SessionId, update.Agent),
                        AgentEventType.OfferExpired => client.SendAsync(AgentHub.Events.OfferExpired, update.SessionId, update.Agent),
                        _ => client.SendAsync(AgentHub.Events.AgentChanged, update.Agent),
                    }).ConfigureAwait(false);
                    delivered = true;
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
                {
                    // The connection is closing: its desktop gets the agent's view again when it signs in again.
                }
            }

            if (delivered && update.Type == AgentEventType.Offer && update.Offer is { } sent)
            {
                Shown(update.AgentId, sent.SessionId, sent.ExpiresAt);
            }
        }
    }

    private void Shown(string agentId, string sessionId, DateTimeOffset expiresAt)
    {
        var now = clock.Now;
        _shown[(agentId, sessionId)] = (now, expiresAt + ShownRetention);
        var last = Interlocked.Read(ref _prunedAt);
        if (now.UtcTicks - last > TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _prunedAt, now.UtcTicks, last) == last)
        {
            foreach (var (key, shown) in _shown)
            {
                if (now > shown.Until)
                {
                    _shown.TryRemove(key, out _);
                }
            }
        }
    }

    /// <summary>An update and the desktop connections it goes to.</summary>
    private sealed record Pending(AgentUpdate Update, string[] Connections);

    /// <summary>One agent's waiting updates and whether a send loop runs for them.</summary>
    private sealed class AgentQueue
    {
        private readonly LinkedList<Pending> _pending = new();
        private readonly Lock _lock = new();
        private bool _sending;

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _pending.Count;
                }
            }
        }

        /// <summary>Adds the update; answers true when the caller must start the send loop.</summary>
        public bool Add(Pending update, ref long dropped)
        {
            lock (_lock)
            {
                if (update.Update.Type == AgentEventType.Changed && _pending.Last is { Value.Update.Type: AgentEventType.Changed } last)
                {
                    last.Value = update;
                    Interlocked.Increment(ref dropped);
                }
                else
                {
                    if (_pending.Count >= MaxPendingPerAgent)
                    {
                        var oldestView = _pending.First;
                        while (oldestView is not null && oldestView.Value.Update.Type != AgentEventType.Changed)
                        {
                            oldestView = oldestView.Next;
                        }

                        _pending.Remove(oldestView ?? _pending.First!);
                        Interlocked.Increment(ref dropped);
                    }

                    _pending.AddLast(update);
                }

                if (_sending)
                {
                    return false;
                }

                _sending = true;
                return true;
            }
        }

        /// <summary>The next update to send, or null (the loop ends; the next <see cref="Add"/> starts another).</summary>
        public Pending? Next()
        {
            lock (_lock)
            {
                if (_pending.First is not { } first)
                {
                    _sending = false;
                    return null;
                }

                _pending.RemoveFirst();
                return first.Value;
            }
        }
    }
}
