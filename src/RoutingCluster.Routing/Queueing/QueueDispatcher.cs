using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Queueing;

/// <summary>Settings of a <see cref="QueueDispatcher"/> that are not part of the queue's policy.</summary>
/// <param name="PositionUpdateInterval">How often waiting sessions are told their place (zero: never).</param>
/// <param name="PositionUpdateLimit">Places are told to at most this many sessions per channel (the front of the line).</param>
public sealed record DispatcherSettings(TimeSpan PositionUpdateInterval, int PositionUpdateLimit)
{
    public static readonly DispatcherSettings Default = new(TimeSpan.FromSeconds(15), 500);
}

/// <summary>
/// One queue's routing decisions, as plain C# with no clock and no I/O: the waiting list, the roster of its agents'
/// latest availability, offer attempts in flight, agents that declined or did not answer, max-wait expiry, the
/// estimated wait and the next wake-up. Events go in (a session arrived or left, an agent changed, an attempt ended,
/// time passed), each with the time it happened; decisions come out (<see cref="TakeDecisions"/>). The queue grain
/// carries them out against other grains; the simulator carries them out in virtual time. Both run this same code.
/// </summary>
/// <remarks>
/// An offer attempt takes its session out of the waiting list and marks its agent busy until its outcome is reported;
/// while an attempt to an agent is in flight, that agent is offered nothing else by this queue (the attempt was for a
/// session ahead of anything else it could take). An agent that declines a session it seemed able to take is not asked
/// again for that session until it publishes a newer snapshot (no offer ping-pong). An agent that does not answer is
/// taken off the roster and asked to publish again at every wake-up until it does.
/// </remarks>
public sealed class QueueDispatcher(string queueId, QueuePolicy policy, DispatcherSettings? settings = null)
{
    /// <summary>Wait before an offer attempt that got no answer is retried, and an unreachable agent is asked again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private static readonly IComparer<SessionDemand> ScheduleOrder = Comparer<SessionDemand>.Create((a, b) =>
    {
        var c = a.Arrival.UtcTicks.CompareTo(b.Arrival.UtcTicks);
        c = c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
        return c != 0 ? c : string.CompareOrdinal(a.SessionId, b.SessionId);
    });

    private readonly DispatcherSettings _settings = settings ?? DispatcherSettings.Default;
    private readonly WaitingList _waiting = new();
    private readonly AgentRoster _roster = new();
    private readonly List<DispatchDecision> _decisions = [];

    /// <summary>Sessions taken out of the waiting list for an offer attempt in flight, with the agent.</summary>
    private readonly Dictionary<string, string> _offering = new(StringComparer.Ordinal);
    private readonly HashSet<string> _agentsBusy = new(StringComparer.Ordinal);

    /// <summary>Sessions that left while an attempt for them was in flight: whatever the outcome, they do not come back.</summary>
    private readonly HashSet<string> _cancelled = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unanswered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string AgentId, long Version)> _declined = new(StringComparer.Ordinal);

    /// <summary>Scheduled callbacks, by the instant they start waiting (their <see cref="SessionDemand.Arrival"/>).</summary>
    private readonly SortedSet<SessionDemand> _scheduled = new(ScheduleOrder);
    private readonly Dictionary<string, SessionDemand> _scheduledById = new(StringComparer.Ordinal);

    /// <summary>Callbacks asked for while their session was not in the waiting list (an offer attempt in flight, or
    /// claimed by an agent): applied when the session comes back, with the scheduled instant if any.</summary>
    private readonly Dictionary<string, DateTimeOffset?> _callbackPending = new(StringComparer.Ordinal);
    private OfferPace _pace;
    private long _sequence;
    private DateTimeOffset? _retryAt;
    private DateTimeOffset? _nextPositions;

    public string QueueId { get; } = queueId;

    /// <summary>The queue's policy; a change applies from the next decision on.</summary>
    public QueuePolicy Policy { get; set; } = policy;

    /// <summary>While the waiting list is being rebuilt (after the queue's activation) nothing is matched, so a ready
    /// agent gets the best session of the whole list, not the first one that came back.</summary>
    public bool Recovering { get; private set; }

    public int WaitingCount => _waiting.Count;

    /// <summary>Callbacks among the waiting sessions (scheduled ones not included: they do not wait yet).</summary>
    public int WaitingCallbackCount => _waiting.CallbackCount;

    /// <summary>Callbacks scheduled for later.</summary>
    public int ScheduledCallbackCount => _scheduled.Count;

    public int OfferingCount => _offering.Count;

    public int AgentCount => _roster.Count;

    public int FreeAgentCount => _roster.FreeCount;

    public SessionDemand? OldestWaiting => _waiting.Oldest;

    /// <summary>Seconds a place in line is estimated to take: smoothed time between two sessions leaving for an agent.</summary>
    public double? SecondsPerOffer => _pace.SecondsPerOffer;

    /// <summary>Whether the queue holds the session: waiting, scheduled for a callback, or in an offer attempt in flight.</summary>
    public bool Holds(string sessionId) => _waiting.Contains(sessionId) || _offering.ContainsKey(sessionId) || _scheduledById.ContainsKey(sessionId);

    /// <summary>The decisions made since the last call, in the order they were made.</summary>
    public IReadOnlyList<DispatchDecision> TakeDecisions()
    {
        if (_decisions.Count == 0)
        {
            return [];
        }

        var taken = _decisions.ToArray();
        _decisions.Clear();
        return taken;
    }

    public void BeginRecovery() => Recovering = true;

    /// <summary>The waiting list is complete again: every free agent is offered its best session.</summary>
    public void EndRecovery(DateTimeOffset now)
    {
        Recovering = false;
        MatchFreeAgents(now);
    }

    /// <summary>What this queue's policy makes of a session that asks to wait here: its segments (declared, and elderly
    /// from the customer's age), the head start they give, and the rest as asked. A null <paramref name="sequence"/>
    /// leaves the place to <see cref="Arrive"/>.</summary>
    public SessionDemand DemandFor(
        string sessionId,
        Channel channel,
        DateTimeOffset arrival,
        int? customerAge,
        IEnumerable<Segment> declaredSegments,
        IReadOnlyDictionary<string, int> skills,
        string? preferredAgentId,
        DateTimeOffset preferredUntil,
        IEnumerable<string> rejectedBy,
        long? sequence)
    {
        var segments = Ordering.PriorityPolicy.DeriveSegments(declaredSegments, customerAge, Policy.ElderlyAge);
        return new SessionDemand
        {
            SessionId = sessionId,
            QueueId = QueueId,
            Channel = channel,
            Arrival = arrival,
            HeadStart = Ordering.PriorityPolicy.HeadStartFor(segments, Policy.HeadStarts),
            Segments = segments,
            RequiredSkills = skills,
            PreferredAgentId = preferredAgentId,
            PreferredUntil = preferredUntil,
            RejectedBy = rejectedBy.ToHashSet(StringComparer.Ordinal),
            Sequence = sequence ?? 0,
        };
    }

    /// <summary>A session arrives (or comes back after a reject or missed offer: <paramref name="isReturn"/>, taken even
    /// when the queue is full). A <see cref="SessionDemand.Sequence"/> of 0 gets the queue's next place.</summary>
    public ArrivalOutcome Arrive(ref SessionDemand demand, bool isReturn, DateTimeOffset now)
    {
        if (!isReturn && !_waiting.Contains(demand.SessionId) && _waiting.Count + _offering.Count >= Policy.MaxWaiting)
        {
            return ArrivalOutcome.QueueFull;
        }

        if (demand.Sequence == 0)
        {
            demand = demand with { Sequence = ++_sequence };
        }

        _cancelled.Remove(demand.SessionId);
        Admit(demand, now);
        return ArrivalOutcome.Accepted;
    }

    /// <summary>
    /// The customer asked to be called back and left the line. Immediate (<paramref name="at"/> null): the session keeps
    /// its place, its arrival and head start unchanged. Scheduled: it leaves the waiting list until <paramref name="at"/>,
    /// then waits as if it had arrived then, with its head start. Either way the max wait no longer applies to it. A
    /// session not in the waiting list now (an offer attempt in flight, or claimed by an agent) becomes a callback when it
    /// comes back.
    /// </summary>
    public void RequestCallback(string sessionId, DateTimeOffset? at, DateTimeOffset now)
    {
        if (_waiting.Remove(sessionId) is { } waiting)
        {
            Admit(AsCallback(waiting, at), now);
            return;
        }

        if (_scheduledById.TryGetValue(sessionId, out var scheduled))
        {
            Unschedule(sessionId);
            Admit(AsCallback(scheduled, at), now);
            return;
        }

        _callbackPending[sessionId] = at;
    }

    /// <summary>The session left (abandoned, or ended elsewhere): it is forgotten, and an attempt in flight for it will not bring it back.</summary>
    public void Leave(string sessionId)
    {
        _declined.Remove(sessionId);
        _callbackPending.Remove(sessionId);
        if (Unschedule(sessionId))
        {
            return;
        }

        if (_waiting.Remove(sessionId) is null && _offering.ContainsKey(sessionId))
        {
            _cancelled.Add(sessionId);
        }
    }

    /// <summary>An agent's latest snapshot. Returns whether the agent serves this queue (one that does not is forgotten).</summary>
    public bool AgentChanged(AgentSupply agent, DateTimeOffset now)
    {
        if (!agent.Queues.Contains(QueueId))
        {
            _roster.Remove(agent.AgentId);
            return false;
        }

        _roster.Update(agent);
        if (_roster.TryGet(agent.AgentId, out var latest))
        {
            MatchAgent(latest, now);
        }

        return true;
    }

    /// <summary>Session surplus, first step: the best session this agent may take, without taking it. Null while
    /// recovering or when none; <see cref="Peek.OfferInFlight"/> when this queue is already offering the agent one.</summary>
    public Peek? PeekFor(AgentSupply agent, DateTimeOffset now)
    {
        _roster.Update(agent);
        if (Recovering)
        {
            return null; // the queue offers the agent its best session once recovered
        }

        if (_agentsBusy.Contains(agent.AgentId))
        {
            return new Peek(null, OfferInFlight: true);
        }

        return BestFor(agent, now) is { } best ? new Peek(best.Session) : null;
    }

    /// <summary>Session surplus, second step: takes the session (or, with <paramref name="sessionId"/> null, the best
    /// one for the agent) out of the waiting list for the agent, who offers it itself. Null when there is none, while
    /// recovering, or while an attempt to this agent is in flight (it is for a session ahead of anything it could claim).</summary>
    public Candidate? Claim(AgentSupply agent, string? sessionId, DateTimeOffset now)
    {
        _roster.Update(agent);
        if (Recovering || _agentsBusy.Contains(agent.AgentId))
        {
            return null;
        }

        Candidate? claimed = null;
        if (sessionId is null)
        {
            if (BestFor(agent, now) is { } best)
            {
                _waiting.Remove(best.Session.SessionId);
                claimed = best;
            }
        }
        else if (_waiting.Remove(sessionId) is { } demand)
        {
            claimed = new Candidate(demand, SkillRelaxation.StepAt(Policy.Relaxation, (now - demand.Arrival).TotalSeconds));
        }

        if (claimed is not null)
        {
            _pace.Offered(now);
        }

        return claimed;
    }

    /// <summary>A claimed session could not be offered after all: it goes back to its place.</summary>
    public void GiveBack(SessionDemand demand, DateTimeOffset now) => Admit(demand, now);

    /// <summary>The outcome of an <see cref="OfferDecision"/>, with the agent's snapshot when it answered.</summary>
    public void AttemptDone(SessionDemand demand, string agentId, AttemptOutcome outcome, AgentSupply? snapshot, DateTimeOffset now)
    {
        _offering.Remove(demand.SessionId);
        _agentsBusy.Remove(agentId);
        var cancelled = _cancelled.Remove(demand.SessionId);
        if (snapshot is not null)
        {
            if (!snapshot.Queues.Contains(QueueId))
            {
                _roster.Remove(agentId);
            }
            else
            {
                _roster.Update(snapshot);
            }
        }

        if (outcome == AttemptOutcome.NoAnswer)
        {
            // Keep the session and try again shortly, without counting on that agent until it publishes again.
            _roster.Remove(agentId);
            _unanswered.Add(agentId);
            _retryAt = now + RetryDelay;
        }

        _declined.Remove(demand.SessionId);
        if (outcome == AttemptOutcome.AgentUnavailable && snapshot is not null)
        {
            _declined[demand.SessionId] = (agentId, snapshot.Version);
        }

        if (outcome == AttemptOutcome.Offered)
        {
            _pace.Offered(now);
            _callbackPending.Remove(demand.SessionId);
        }
        else if (outcome != AttemptOutcome.SessionGone && !cancelled)
        {
            Admit(demand, now);
        }
        else
        {
            _callbackPending.Remove(demand.SessionId);
        }

        if (_roster.TryGet(agentId, out var latest))
        {
            MatchAgent(latest, now);
        }
    }

    /// <summary>An agent asked to publish again (<see cref="AskAgentDecision"/>) could not be reached: it is asked again shortly.</summary>
    public void AgentUnreachable(string agentId, DateTimeOffset now)
    {
        _unanswered.Add(agentId);
        _retryAt = now + RetryDelay;
    }

    /// <summary>Time passed: sessions past the maximum wait leave, relaxation steps and preferred-agent windows that
    /// ended may let free agents take sessions, agents that did not answer are asked again, places are told when due.</summary>
    public void Wake(DateTimeOffset now)
    {
        _retryAt = null;

        // Scheduled callbacks whose time has come start waiting, as if they arrived then.
        while (_scheduled.Count > 0 && _scheduled.Min!.Arrival <= now)
        {
            var due = _scheduled.Min;
            Unschedule(due.SessionId);
            Admit(due, now);
        }

        // Max wait: the longest-waiting sessions on the line leave first, to the overflow queue or out. Callbacks are
        // not on the line: they wait for their agent however long it takes.
        var cutoff = now - TimeSpan.FromSeconds(Policy.MaxWaitSeconds);
        foreach (var demand in _waiting.ArrivedAtOrBefore(cutoff).ToList())
        {
            _waiting.Remove(demand.SessionId);
            _decisions.Add(new ExpireDecision(demand, Policy.OverflowQueueId));
        }

        MatchFreeAgents(now);

        foreach (var agentId in _unanswered)
        {
            _decisions.Add(new AskAgentDecision(agentId));
        }

        _unanswered.Clear();

        if (_nextPositions <= now)
        {
            _nextPositions = null;
            TellPositions();
        }
    }

    /// <summary>When <see cref="Wake"/> is next due (null: nothing to wait for).</summary>
    public DateTimeOffset? NextWake(DateTimeOffset now)
    {
        var next = _retryAt;
        if (_scheduled.Count > 0)
        {
            next = Earliest(next, _scheduled.Min!.Arrival);
        }

        if (_waiting.OldestOnLine is { } oldest)
        {
            next = Earliest(next, oldest.Arrival + TimeSpan.FromSeconds(Policy.MaxWaitSeconds));
        }

        if (_waiting.Count > 0)
        {
            if (_roster.FreeCount > 0)
            {
                next = Earliest(next, _waiting.NextEligibilityChange(Policy, now));
            }

            if (_settings.PositionUpdateInterval > TimeSpan.Zero)
            {
                _nextPositions ??= now + _settings.PositionUpdateInterval;
                next = Earliest(next, _nextPositions);
            }
        }

        return next;
    }

    /// <summary>The queue's agents as last published to it.</summary>
    public IReadOnlyList<AgentSupply> Agents => [.. _roster.All];

    /// <summary>The queue's agents by what they are doing (work held outranks the chosen state).</summary>
    public AgentCounts CountAgents()
    {
        int idle = 0, busy = 0, notReady = 0;
        foreach (var agent in _roster.All)
        {
            if (agent.ActiveTotal > 0)
            {
                busy++;
            }
            else if (agent.State == AgentState.Ready)
            {
                idle++;
            }
            else if (agent.State == AgentState.NotReady)
            {
                notReady++;
            }
        }

        return new AgentCounts(idle, busy, notReady);
    }

    /// <summary>Waiting sessions per segment, with the oldest arrival of each.</summary>
    public Dictionary<Segment, SegmentCount> CountWaitingBySegment()
    {
        var bySegment = new Dictionary<Segment, SegmentCount>();
        foreach (var session in _waiting.All)
        {
            foreach (var segment in session.Segments)
            {
                bySegment[segment] = bySegment.TryGetValue(segment, out var seen)
                    ? new SegmentCount(seen.Waiting + 1, seen.OldestArrival < session.Arrival ? seen.OldestArrival : session.Arrival)
                    : new SegmentCount(1, session.Arrival);
            }
        }

        return bySegment;
    }

    /// <summary>A session starts (or goes back to) waiting: a callback asked for while it was away is applied, a
    /// scheduled callback whose time has not come is set aside until then, and anything else joins the waiting list and
    /// goes to the best free agent, if any.</summary>
    private void Admit(SessionDemand demand, DateTimeOffset now)
    {
        if (_callbackPending.Remove(demand.SessionId, out var at))
        {
            demand = AsCallback(demand, at);
        }

        if (demand.Callback && demand.Arrival > now)
        {
            _waiting.Remove(demand.SessionId);
            Unschedule(demand.SessionId);
            _scheduled.Add(demand);
            _scheduledById[demand.SessionId] = demand;
            return;
        }

        Unschedule(demand.SessionId);
        _waiting.Add(demand);
        MatchSession(demand, now);
    }

    /// <summary>The session as a callback: at its own place, or (scheduled) arriving at <paramref name="at"/>. A session
    /// that is already a callback keeps what it has.</summary>
    private static SessionDemand AsCallback(SessionDemand demand, DateTimeOffset? at) =>
        demand.Callback ? demand : demand with { Callback = true, Arrival = at ?? demand.Arrival };

    private bool Unschedule(string sessionId)
    {
        if (!_scheduledById.Remove(sessionId, out var scheduled))
        {
            return false;
        }

        _scheduled.Remove(scheduled);
        return true;
    }

    /// <summary>Agent surplus: a session that just arrived (or came back) goes to the best free agent, if any.</summary>
    private void MatchSession(SessionDemand demand, DateTimeOffset now)
    {
        if (Recovering || !_waiting.Contains(demand.SessionId) || _roster.FreeCount == 0)
        {
            return;
        }

        var excluded = _agentsBusy;
        if (_declined.TryGetValue(demand.SessionId, out var declined)
            && _roster.TryGet(declined.AgentId, out var known) && Declined(demand.SessionId, known))
        {
            excluded = [.. _agentsBusy, declined.AgentId];
        }

        if (_roster.PickFor(demand, Policy, now, excluded) is not { } choice)
        {
            return;
        }

        // An ordering check: the agent may be eligible for a session ahead of this one. Then that one goes.
        if (BestFor(choice.Agent, now) is { } ahead && ahead.Session.SessionId != demand.SessionId)
        {
            StartAttempt(ahead.Session, choice.Agent, 1, MatchKind.SessionSurplus);
            return;
        }

        StartAttempt(demand, choice.Agent, choice.CandidateCount, MatchKind.AgentSurplus);
    }

    /// <summary>An agent with room: offer it the best waiting session it may take.</summary>
    private void MatchAgent(AgentSupply agent, DateTimeOffset now)
    {
        if (Recovering || _agentsBusy.Contains(agent.AgentId) || !agent.HasFreeCapacity || _waiting.Count == 0)
        {
            return;
        }

        if (BestFor(agent, now) is { } best)
        {
            StartAttempt(best.Session, agent, 1, MatchKind.SessionSurplus);
        }
    }

    private void MatchFreeAgents(DateTimeOffset now)
    {
        foreach (var agent in _roster.Free.ToList())
        {
            MatchAgent(agent, now);
        }
    }

    private Candidate? BestFor(AgentSupply agent, DateTimeOffset now) =>
        _waiting.BestFor(agent, Policy, now, d => _roster.AnyoneElseEligible(d, agent.AgentId, Policy, now),
            _declined.Count == 0 ? null : d => Declined(d.SessionId, agent));

    private bool Declined(string sessionId, AgentSupply agent) =>
        _declined.TryGetValue(sessionId, out var d) && d.AgentId == agent.AgentId && agent.Version <= d.Version;

    private void StartAttempt(SessionDemand demand, AgentSupply agent, int candidates, MatchKind kind)
    {
        _waiting.Remove(demand.SessionId);
        _offering[demand.SessionId] = agent.AgentId;
        _agentsBusy.Add(agent.AgentId);
        _decisions.Add(new OfferDecision(demand, agent.AgentId, candidates, kind));
    }

    /// <summary>Places at the front of each channel's line, with place × the smoothed time between offers as the estimated
    /// wait, and a callback proposed to a customer on the line whose estimate is over the queue's bound.</summary>
    private void TellPositions()
    {
        var positions = new List<WaitingPosition>();
        foreach (var channel in Enum.GetValues<Channel>())
        {
            var position = 0;
            foreach (var demand in _waiting.InServiceOrder(channel))
            {
                if (++position > _settings.PositionUpdateLimit)
                {
                    break;
                }

                var estimate = _pace.SecondsPerOffer * position;
                var propose = !demand.Callback && Policy.CallbackOffer is { } offer && estimate > offer.WhenEstimatedWaitOverSeconds;
                positions.Add(new WaitingPosition(demand.SessionId, channel, position, estimate, propose));
            }
        }

        if (positions.Count > 0)
        {
            _decisions.Add(new PositionsDecision(positions));
        }
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>Smoothed time between two sessions leaving the queue for an agent (exponential, weight 0.2 on the latest).</summary>
    private struct OfferPace
    {
        private DateTimeOffset? _last;

        public double? SecondsPerOffer { get; private set; }

        public void Offered(DateTimeOffset now)
        {
            if (_last is { } last)
            {
                var seconds = (now - last).TotalSeconds;
                SecondsPerOffer = SecondsPerOffer is { } smoothed ? (0.8 * smoothed) + (0.2 * seconds) : seconds;
            }

            _last = now;
        }
    }
}

/// <summary>A queue's best session for an agent, not yet taken; or, with <see cref="OfferInFlight"/>, word that the
/// queue is already offering the agent one of its sessions (that offer comes first).</summary>
public sealed record Peek(SessionDemand? Session, bool OfferInFlight = false);
