using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Queueing;

/// <summary>
/// The sessions waiting in one queue, kept in service order per channel (a red-black tree keyed by
/// <see cref="Ordering.WaitKey"/>, so insert, remove and "best" stay O(log n) with 100,000 waiting), and in
/// arrival order for longest wait, max wait and relaxation deadlines.
/// </summary>
public sealed class WaitingList
{
    /// <summary>How many sessions of one channel are examined for one agent before giving up: a bound on the
    /// work of one decision when the head of the queue needs skills this agent lacks.</summary>
    public const int ScanLimit = 4096;

    // Every comparer ends on the session id: a sorted set drops an element that compares equal to one it holds,
    // so two sessions with the same arrival and sequence must still be told apart.
    private static readonly IComparer<SessionDemand> ServiceOrder = Comparer<SessionDemand>.Create((a, b) =>
    {
        var c = a.Key.CompareTo(b.Key);
        return c != 0 ? c : string.CompareOrdinal(a.SessionId, b.SessionId);
    });

    private static readonly IComparer<SessionDemand> ArrivalOrder = Comparer<SessionDemand>.Create((a, b) =>
    {
        var c = a.Arrival.UtcTicks.CompareTo(b.Arrival.UtcTicks);
        c = c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
        return c != 0 ? c : string.CompareOrdinal(a.SessionId, b.SessionId);
    });

    private readonly Dictionary<string, SessionDemand> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<Channel, SortedSet<SessionDemand>> _byChannel = [];
    private readonly SortedSet<SessionDemand> _byArrival = new(ArrivalOrder);
    private readonly SortedSet<SessionDemand> _preferred = new(Comparer<SessionDemand>.Create((a, b) =>
    {
        var c = a.PreferredUntil.UtcTicks.CompareTo(b.PreferredUntil.UtcTicks);
        c = c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
        return c != 0 ? c : string.CompareOrdinal(a.SessionId, b.SessionId);
    }));

    public int Count => _byId.Count;

    public bool Contains(string sessionId) => _byId.ContainsKey(sessionId);

    public bool TryGet(string sessionId, out SessionDemand demand) => _byId.TryGetValue(sessionId, out demand!);

    /// <summary>The session that has waited longest, if any.</summary>
    public SessionDemand? Oldest => _byArrival.Count > 0 ? _byArrival.Min : null;

    public IEnumerable<SessionDemand> All => _byId.Values;

    /// <summary>Adds a session (or replaces the one with the same id).</summary>
    public void Add(SessionDemand demand)
    {
        Remove(demand.SessionId);
        _byId[demand.SessionId] = demand;
        if (!_byChannel.TryGetValue(demand.Channel, out var set))
        {
            set = new SortedSet<SessionDemand>(ServiceOrder);
            _byChannel[demand.Channel] = set;
        }

        set.Add(demand);
        _byArrival.Add(demand);
        if (demand.PreferredAgentId is not null)
        {
            _preferred.Add(demand);
        }
    }

    public SessionDemand? Remove(string sessionId)
    {
        if (!_byId.Remove(sessionId, out var demand))
        {
            return null;
        }

        _byChannel[demand.Channel].Remove(demand);
        _byArrival.Remove(demand);
        _preferred.Remove(demand);
        return demand;
    }

    /// <summary>Waiting sessions of one channel in service order.</summary>
    public IEnumerable<SessionDemand> InServiceOrder(Channel channel) =>
        _byChannel.TryGetValue(channel, out var set) ? set : [];

    /// <summary>Sessions that arrived at or before <paramref name="cutoff"/>, longest waiting first.</summary>
    public IEnumerable<SessionDemand> ArrivedAtOrBefore(DateTimeOffset cutoff)
    {
        foreach (var demand in _byArrival)
        {
            if (demand.Arrival > cutoff)
            {
                yield break;
            }

            yield return demand;
        }
    }

    /// <summary>
    /// Session surplus: the highest-scoring waiting session this agent may take now, over every channel it
    /// has room on. A session the agent rejected is skipped unless <paramref name="anyoneElseEligible"/> says
    /// no other agent could take it. Sessions for which <paramref name="skip"/> is true are passed over.
    /// </summary>
    public Candidate? BestFor(AgentSupply agent, QueuePolicy policy, DateTimeOffset now, Func<SessionDemand, bool> anyoneElseEligible,
        Func<SessionDemand, bool>? skip = null)
    {
        Candidate? best = null;
        foreach (var (channel, set) in _byChannel)
        {
            if (set.Count == 0 || !agent.CanTake(channel))
            {
                continue;
            }

            var scanned = 0;
            foreach (var demand in set)
            {
                if (best is { } b && !demand.Key.IsAheadOf(b.Session.Key))
                {
                    break;
                }

                if (++scanned > ScanLimit)
                {
                    break;
                }

                if (skip?.Invoke(demand) != true
                    && Eligibility.IsEligible(agent, demand, policy, now, out var step)
                    && Eligibility.Admits(agent.AgentId, demand, now, anyoneElseEligible))
                {
                    best = new Candidate(demand, step);
                    break;
                }
            }
        }

        return best;
    }

    /// <summary>The next instant at which a waiting session reaches a relaxation step or leaves its
    /// preferred-agent window: a moment when a free agent may become eligible for it.</summary>
    public DateTimeOffset? NextEligibilityChange(QueuePolicy policy, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var step in policy.Relaxation)
        {
            // The first session (in arrival order) that has not reached this step yet reaches it first.
            var after = TimeSpan.FromSeconds(step.AfterSeconds);
            var lower = new SessionDemand
            {
                SessionId = string.Empty,
                QueueId = string.Empty,
                Channel = Channel.Voice,
                Arrival = now - after,
                Sequence = long.MaxValue,
            };
            if (_byArrival.Count == 0 || ArrivalOrder.Compare(lower, _byArrival.Max!) > 0)
            {
                continue;
            }

            // Min of a view walks down the tree (O(log n)); Count would count the whole range.
            if (_byArrival.GetViewBetween(lower, _byArrival.Max!).Min is { } first)
            {
                var at = first.Arrival + after;
                if (at > now && (next is null || at < next))
                {
                    next = at;
                }
            }
        }

        foreach (var demand in _preferred)
        {
            if (demand.PreferredUntil > now)
            {
                if (next is null || demand.PreferredUntil < next)
                {
                    next = demand.PreferredUntil;
                }

                break;
            }
        }

        return next;
    }
}

/// <summary>A session chosen for an agent, with the relaxation step at which the agent matched.</summary>
public readonly record struct Candidate(SessionDemand Session, int RelaxationStep);
