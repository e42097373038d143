using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Queueing;

/// <summary>
/// The sessions waiting in one queue, kept in service order per channel (a red-black tree keyed by
/// <see cref="Ordering.WaitKey"/>, so insert, remove and "best" stay O(log n) with 100,000 waiting), and in
/// arrival order for longest wait, max wait and relaxation deadlines.
/// </summary>
/// <remarks>
/// For <see cref="BestFor"/> the sessions are also grouped by what decides whether an agent may take them: queue,
/// channel, required skills (the set with its levels) and head start. There are few such groups in practice (a
/// queue has a handful of skill sets and segments), and within one group arrival order is service order (the head
/// start is the same for all), so a group's best session for an agent is the first one, in arrival order, whose
/// relaxation step the agent's skills meet. A free agent therefore visits only the groups it may take, and in each
/// only the stretch of arrivals at the steps it meets: a session it may take is found however many it may not take
/// wait ahead of it, and an agent that may take none looks at no session at all. Sessions within a preferred-agent
/// window are kept apart, by preferred agent, until the window ends, so other agents do not walk past them.
/// Callbacks (<see cref="SessionDemand.Callback"/>) keep their place in service order like any session, but are kept
/// apart in arrival order: the customer is not on the line, so the queue's max wait, which walks the longest waiting
/// first, never passes over them.
/// </remarks>
public sealed class WaitingList
{
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

    private static readonly IComparer<SessionDemand> WindowOrder = Comparer<SessionDemand>.Create((a, b) =>
    {
        var c = a.PreferredUntil.UtcTicks.CompareTo(b.PreferredUntil.UtcTicks);
        c = c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
        return c != 0 ? c : string.CompareOrdinal(a.SessionId, b.SessionId);
    });

    private readonly Dictionary<string, SessionDemand> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<Channel, SortedSet<SessionDemand>> _byChannel = [];
    /// <summary>Sessions whose customer is on the line, and callbacks, each in arrival order.</summary>
    private readonly SortedSet<SessionDemand> _byArrival = new(ArrivalOrder);
    private readonly SortedSet<SessionDemand> _callbacksByArrival = new(ArrivalOrder);
    private readonly SortedSet<SessionDemand> _preferred = new(WindowOrder);

    /// <summary>Sessions no preferred-agent window holds, grouped for <see cref="BestFor"/> (see the remarks), and the
    /// same groups in the service order of their first sessions.</summary>
    private readonly Dictionary<SessionDemand, Group> _groups = new(GroupEquality.Instance);
    private readonly SortedSet<Group> _groupsInOrder = new(Comparer<Group>.Create((a, b) => ServiceOrder.Compare(a.First, b.First)));

    /// <summary>Sessions whose preferred-agent window may still be open, in window order, and the same by preferred
    /// agent; each moves to its group once its window has ended (<see cref="CloseWindows"/>).</summary>
    private readonly SortedSet<SessionDemand> _windowOpen = new(WindowOrder);
    private readonly Dictionary<string, SortedSet<SessionDemand>> _reservedFor = new(StringComparer.Ordinal);

    private Regions? _regions;

    public int Count => _byId.Count;

    public bool Contains(string sessionId) => _byId.ContainsKey(sessionId);

    public bool TryGet(string sessionId, out SessionDemand demand) => _byId.TryGetValue(sessionId, out demand!);

    /// <summary>The session that has waited longest, if any (callbacks included).</summary>
    public SessionDemand? Oldest =>
        _callbacksByArrival.Count == 0 ? OldestOnLine
        : OldestOnLine is not { } onLine || ArrivalOrder.Compare(_callbacksByArrival.Min!, onLine) < 0 ? _callbacksByArrival.Min
        : onLine;

    /// <summary>The session whose customer has waited longest on the line (callbacks left out), if any.</summary>
    public SessionDemand? OldestOnLine => _byArrival.Count > 0 ? _byArrival.Min : null;

    /// <summary>How many of the waiting sessions are callbacks.</summary>
    public int CallbackCount => _callbacksByArrival.Count;

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
        ArrivalSet(demand).Add(demand);
        if (demand.PreferredAgentId is not { } preferred)
        {
            AddToGroup(demand);
            return;
        }

        _preferred.Add(demand);
        if (demand.PreferredUntil <= demand.Arrival)
        {
            // No window (a preferred-agent wait of 0): the preferred agent is asked first at arrival, by the agent
            // choice, and afterwards the session is anyone's.
            AddToGroup(demand);
            return;
        }

        _windowOpen.Add(demand);
        if (!_reservedFor.TryGetValue(preferred, out var reserved))
        {
            reserved = new SortedSet<SessionDemand>(ServiceOrder);
            _reservedFor[preferred] = reserved;
        }

        reserved.Add(demand);
    }

    public SessionDemand? Remove(string sessionId)
    {
        if (!_byId.Remove(sessionId, out var demand))
        {
            return null;
        }

        _byChannel[demand.Channel].Remove(demand);
        ArrivalSet(demand).Remove(demand);
        if (demand.PreferredAgentId is { } preferred)
        {
            _preferred.Remove(demand);
            if (_windowOpen.Remove(demand))
            {
                var reserved = _reservedFor[preferred];
                reserved.Remove(demand);
                if (reserved.Count == 0)
                {
                    _reservedFor.Remove(preferred);
                }

                return demand;
            }
        }

        var group = _groups[demand];
        if (!ReferenceEquals(group.First, demand))
        {
            group.Sessions.Remove(demand);
            return demand;
        }

        // The group's first session leaves: the group takes its new place in the order (or goes).
        _groupsInOrder.Remove(group);
        group.Sessions.Remove(demand);
        if (group.Sessions.Count == 0)
        {
            _groups.Remove(demand);
        }
        else
        {
            group.First = group.Sessions.Min!;
            _groupsInOrder.Add(group);
        }

        return demand;
    }

    /// <summary>Waiting sessions of one channel in service order.</summary>
    public IEnumerable<SessionDemand> InServiceOrder(Channel channel) =>
        _byChannel.TryGetValue(channel, out var set) ? set : [];

    /// <summary>Sessions on the line (callbacks left out) that arrived at or before <paramref name="cutoff"/>, longest waiting first.</summary>
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
    /// Every waiting session the agent may take is considered, however deep in the queue (see the remarks on
    /// the class for how that stays cheap).
    /// </summary>
    public Candidate? BestFor(AgentSupply agent, QueuePolicy policy, DateTimeOffset now, Func<SessionDemand, bool> anyoneElseEligible,
        Func<SessionDemand, bool>? skip = null)
    {
        CloseWindows(now);
        if (agent.State != AgentState.Ready)
        {
            return null;
        }

        SessionDemand? best = null;
        var bestStep = -1;

        // Sessions whose preferred-agent window holds them for this agent.
        if (_reservedFor.TryGetValue(agent.AgentId, out var reserved))
        {
            foreach (var demand in reserved)
            {
                if (Consider(demand))
                {
                    break;
                }
            }
        }

        var regions = RegionsOf(policy.Relaxation);
        Span<bool> meets = regions.Count <= 64 ? stackalloc bool[regions.Count] : new bool[regions.Count];
        foreach (var group in _groupsInOrder)
        {
            // Groups come in the order of their first sessions: once one cannot beat the best found, none can.
            var first = group.First;
            if (best is not null && ServiceOrder.Compare(first, best) >= 0)
            {
                break;
            }

            if (!agent.CanTake(first.Channel) || !Serves(agent, first.QueueId))
            {
                continue;
            }

            // The relaxation steps at which this agent meets the group's skills, as stretches of waiting time.
            var any = false;
            var all = true;
            for (var r = 0; r < meets.Length; r++)
            {
                meets[r] = Eligibility.MeetsSkills(agent, first, policy, regions.Steps[r]);
                any |= meets[r];
                all &= meets[r];
            }

            if (!any)
            {
                continue;
            }

            // Usually the group's first session is the one (it has waited longest, so it is also the most relaxed).
            if (meets[regions.RegionOf((now - first.Arrival).TotalSeconds)] && Consider(first))
            {
                continue;
            }

            if (all)
            {
                foreach (var demand in group.Sessions)
                {
                    if (!ReferenceEquals(demand, first) && Consider(demand))
                    {
                        break;
                    }
                }

                continue;
            }

            // Longest waiting first: the last region (the most relaxed) holds the earliest arrivals.
            var done = false;
            for (var last = meets.Length - 1; last >= 0 && !done; last--)
            {
                if (!meets[last])
                {
                    continue;
                }

                var from = last;
                while (from > 0 && meets[from - 1])
                {
                    from--;
                }

                // Nobody in the group arrived before its first session: a stretch that ends earlier is empty.
                var latest = LatestArrival(regions, from, now);
                if (latest < first.Arrival)
                {
                    last = from;
                    continue;
                }

                foreach (var demand in group.Sessions.GetViewBetween(Probe(EarliestArrival(regions, last, now), long.MinValue), Probe(latest, long.MaxValue)))
                {
                    if (Consider(demand))
                    {
                        done = true;
                        break;
                    }
                }

                last = from;
            }
        }

        return best is null ? null : new Candidate(best, bestStep);

        // Whether to stop walking this set: the session is the best so far, or nothing after it can be.
        bool Consider(SessionDemand demand)
        {
            if (best is not null && ServiceOrder.Compare(demand, best) >= 0)
            {
                return true;
            }

            if (skip?.Invoke(demand) != true
                && Eligibility.IsEligible(agent, demand, policy, now, out var step)
                && Eligibility.Admits(agent.AgentId, demand, now, anyoneElseEligible))
            {
                best = demand;
                bestStep = step;
                return true;
            }

            return false;
        }
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
            var lower = Probe(now - after, long.MaxValue);
            next = Earliest(next, FirstToReach(_byArrival, lower, after, now));
            next = Earliest(next, FirstToReach(_callbacksByArrival, lower, after, now));
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

    /// <summary>When the first session of <paramref name="byArrival"/> that arrived after <paramref name="lower"/> has
    /// waited <paramref name="after"/>, if that is after <paramref name="now"/>.</summary>
    private static DateTimeOffset? FirstToReach(SortedSet<SessionDemand> byArrival, SessionDemand lower, TimeSpan after, DateTimeOffset now)
    {
        if (byArrival.Count == 0 || ArrivalOrder.Compare(lower, byArrival.Max!) > 0)
        {
            return null;
        }

        // Min of a view walks down the tree (O(log n)); Count would count the whole range.
        if (byArrival.GetViewBetween(lower, byArrival.Max!).Min is { } first)
        {
            var at = first.Arrival + after;
            return at > now ? at : null;
        }

        return null;
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    private SortedSet<SessionDemand> ArrivalSet(SessionDemand demand) => demand.Callback ? _callbacksByArrival : _byArrival;

    private void AddToGroup(SessionDemand demand)
    {
        if (!_groups.TryGetValue(demand, out var group))
        {
            group = new Group(demand);
            group.Sessions.Add(demand);
            _groups[demand] = group;
            _groupsInOrder.Add(group);
            return;
        }

        if (ServiceOrder.Compare(demand, group.First) >= 0)
        {
            group.Sessions.Add(demand);
            return;
        }

        // A new first session: the group takes its new place in the order.
        _groupsInOrder.Remove(group);
        group.Sessions.Add(demand);
        group.First = demand;
        _groupsInOrder.Add(group);
    }

    /// <summary>Sessions whose preferred-agent window has ended join their group: anyone eligible may take them now.
    /// (Should the clock step back, <see cref="Eligibility.Admits(string, SessionDemand, DateTimeOffset, Func{SessionDemand, bool})"/>
    /// still keeps a session within its window for its preferred agent.)</summary>
    private void CloseWindows(DateTimeOffset now)
    {
        while (_windowOpen.Count > 0 && _windowOpen.Min!.PreferredUntil <= now)
        {
            var demand = _windowOpen.Min;
            _windowOpen.Remove(demand);
            var reserved = _reservedFor[demand.PreferredAgentId!];
            reserved.Remove(demand);
            if (reserved.Count == 0)
            {
                _reservedFor.Remove(demand.PreferredAgentId!);
            }

            AddToGroup(demand);
        }
    }

    private static bool Serves(AgentSupply agent, string queueId)
    {
        var queues = agent.Queues;
        for (var i = 0; i < queues.Count; i++)
        {
            if (string.Equals(queues[i], queueId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The latest arrival of a session that has waited into region <paramref name="from"/> or beyond: at least
    /// From[from] seconds, so arrived at or before now − From[from]; widened by a tick against rounding (the step of each
    /// session is checked exactly when it is considered).</summary>
    private static DateTimeOffset LatestArrival(Regions regions, int from, DateTimeOffset now) =>
        from == 0 ? DateTimeOffset.MaxValue : Before(now, regions.From[from], 1);

    /// <summary>The earliest arrival of a session that has not waited past region <paramref name="last"/>: less than
    /// From[last + 1] seconds, so arrived after now − From[last + 1]; widened by a tick.</summary>
    private static DateTimeOffset EarliestArrival(Regions regions, int last, DateTimeOffset now) =>
        last == regions.Count - 1 ? DateTimeOffset.MinValue : Before(now, regions.From[last + 1], -1);

    /// <summary><paramref name="now"/> − <paramref name="seconds"/> + <paramref name="ticks"/>, within the range of instants.</summary>
    private static DateTimeOffset Before(DateTimeOffset now, double seconds, long ticks)
    {
        // ±4·10^18 ticks (12,700 years) keeps the arithmetic inside a long whatever the step says.
        var span = (long)Math.Round(Math.Clamp(seconds * TimeSpan.TicksPerSecond, -4e18, 4e18));
        var at = now.UtcTicks - span + ticks;
        return new DateTimeOffset(Math.Clamp(at, DateTimeOffset.MinValue.UtcTicks, DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);
    }

    private static SessionDemand Probe(DateTimeOffset arrival, long sequence) => new()
    {
        SessionId = string.Empty,
        QueueId = string.Empty,
        Channel = Channel.Voice,
        Arrival = arrival,
        Sequence = sequence,
    };

    private Regions RegionsOf(IReadOnlyList<RelaxationStep> steps)
    {
        if (_regions is { } cached && ReferenceEquals(cached.Source, steps))
        {
            return cached;
        }

        // Between two consecutive step instants the step reached is the same for every session.
        var from = steps.Select(s => s.AfterSeconds).Where(double.IsFinite).Distinct().Order().ToList();
        from.Insert(0, double.NegativeInfinity);
        var stepOf = from.Select(w => SkillRelaxation.StepAt(steps, w)).ToArray();
        return _regions = new Regions(steps, [.. from], stepOf);
    }

    /// <summary>Waiting time split where the relaxation step changes: region r covers waits from
    /// <see cref="From"/>[r] (inclusive) to From[r + 1], and sessions in it are at step <see cref="Steps"/>[r].</summary>
    private sealed record Regions(IReadOnlyList<RelaxationStep> Source, double[] From, int[] Steps)
    {
        public int Count => From.Length;

        /// <summary>The region a session that has waited <paramref name="waitedSeconds"/> is in.</summary>
        public int RegionOf(double waitedSeconds)
        {
            var r = 0;
            while (r + 1 < From.Length && waitedSeconds >= From[r + 1])
            {
                r++;
            }

            return r;
        }
    }

    /// <summary>Sessions of one queue and channel with the same required skills and head start, in arrival order
    /// (which within the group is service order). <see cref="First"/> is the first of them (it stands for the group's
    /// queue, channel, skills and head start).</summary>
    private sealed class Group(SessionDemand first)
    {
        public SessionDemand First { get; set; } = first;

        public SortedSet<SessionDemand> Sessions { get; } = new(ArrivalOrder);
    }

    /// <summary>Two sessions are in the same group when they have the same queue, channel, head start and required
    /// skills (the same skills at the same levels).</summary>
    private sealed class GroupEquality : IEqualityComparer<SessionDemand>
    {
        public static readonly GroupEquality Instance = new();

        public bool Equals(SessionDemand? x, SessionDemand? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Channel != y.Channel || x.HeadStart != y.HeadStart
                || !string.Equals(x.QueueId, y.QueueId, StringComparison.Ordinal)
                || x.RequiredSkills.Count != y.RequiredSkills.Count)
            {
                return false;
            }

            // A concrete dictionary is enumerated without boxing its enumerator (as Eligibility.MeetsSkills does).
            if (x.RequiredSkills is Dictionary<string, int> skills)
            {
                foreach (var (skill, level) in skills)
                {
                    if (!y.RequiredSkills.TryGetValue(skill, out var other) || other != level)
                    {
                        return false;
                    }
                }

                return true;
            }

            foreach (var (skill, level) in x.RequiredSkills)
            {
                if (!y.RequiredSkills.TryGetValue(skill, out var other) || other != level)
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(SessionDemand obj)
        {
            // Order-independent over the skills: two dictionaries with the same entries hash alike.
            var skills = 0;
            if (obj.RequiredSkills is Dictionary<string, int> concrete)
            {
                foreach (var (skill, level) in concrete)
                {
                    skills += HashCode.Combine(StringComparer.Ordinal.GetHashCode(skill), level);
                }
            }
            else
            {
                foreach (var (skill, level) in obj.RequiredSkills)
                {
                    skills += HashCode.Combine(StringComparer.Ordinal.GetHashCode(skill), level);
                }
            }

            return HashCode.Combine(StringComparer.Ordinal.GetHashCode(obj.QueueId), obj.Channel, obj.HeadStart, skills, obj.RequiredSkills.Count);
        }
    }
}

/// <summary>A session chosen for an agent, with the relaxation step at which the agent matched.</summary>
public readonly record struct Candidate(SessionDemand Session, int RelaxationStep);
