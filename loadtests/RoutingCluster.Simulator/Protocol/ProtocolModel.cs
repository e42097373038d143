using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Simulator.Protocol;

/// <summary>
/// The routing protocol of sessions, agents and queues as one sequential program in virtual time. Each queue's
/// decisions are made by its own <see cref="QueueDispatcher"/> (the code the queue grain runs), the choice across an
/// agent's queues by <see cref="CrossQueueChoice"/>, eligibility by <see cref="Eligibility"/> and offer expiry by
/// <see cref="OfferTerms"/>; what is modelled here is only who tells whom what, in which order: the messages the
/// grains exchange. An agent handles one message at a time, as its grain does: an offer attempt that reaches it while
/// it is busy with another message waits until that one is done.
/// </summary>
public sealed class ProtocolModel
{
    private const int MaxPullsPerFreeUp = 16;

    private readonly RoutingTrace _trace;
    private readonly TraceAgenda _agenda;
    private readonly Dictionary<string, QueueDispatcher> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset?> _queueWake = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelAgent> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelSession> _sessions = new(StringComparer.Ordinal);
    private DateTimeOffset _now = RoutingTrace.Epoch;

    public ProtocolModel(RoutingTrace trace)
    {
        _trace = trace;
        _agenda = new TraceAgenda(trace);
        foreach (var q in trace.Queues)
        {
            _queues[q.Id] = new QueueDispatcher(q.Id, q.Policy, new DispatcherSettings(TimeSpan.Zero, 0));
            _queueWake[q.Id] = null;
        }

        foreach (var a in trace.Agents)
        {
            _agents[a.Id] = new ModelAgent(a, _now);
        }

        // Each agent's profile is set before the trace starts: its queues hear of it, logged out.
        foreach (var agent in _agents.Values)
        {
            Turn(agent, () => Publish(agent));
        }
    }

    /// <summary>Runs the trace to its end and returns the offers made, as the agents saw them.</summary>
    public static List<OfferSeen> Run(RoutingTrace trace) => Run(trace, null);

    /// <summary>As <see cref="Run(RoutingTrace)"/>, writing to <paramref name="journal"/> (when given) every change of an
    /// agent and every decision of a queue, with the instant: for finding out why two runs differ.</summary>
    public static List<OfferSeen> Run(RoutingTrace trace, List<string>? journal)
    {
        var model = new ProtocolModel(trace) { _journal = journal };
        model.RunToEnd();
        return model._agenda.Offers;
    }

    private List<string>? _journal;

    private void Note(string what) => _journal?.Add($"{NowMs / 1000.0:F3}s {what}");

    private long NowMs => (long)Math.Round((_now - RoutingTrace.Epoch).TotalMilliseconds);

    private void RunToEnd()
    {
        var endMs = TraceAgenda.Ms(_trace.EndsAt);
        while (true)
        {
            var (timerAt, fire) = NextTimer();
            var actionAt = _agenda.NextAtMs;
            if (timerAt is { } t && (actionAt is null || TraceAgenda.Ms((t - RoutingTrace.Epoch).TotalSeconds) <= actionAt))
            {
                if (t > RoutingTrace.Instant(_trace.EndsAt))
                {
                    break;
                }

                _now = t > _now ? t : _now;
                fire!();
                continue;
            }

            if (actionAt is not { } at || at > endMs)
            {
                break;
            }

            _now = RoutingTrace.Epoch + TimeSpan.FromMilliseconds(at);
            Perform(_agenda.Take());
        }
    }

    /// <summary>The earliest timer of any agent (offer expiry, end of wrap-up) or queue (its dispatcher's wake-up);
    /// agents before queues at the same instant, then by id.</summary>
    private (DateTimeOffset? At, Action? Fire) NextTimer()
    {
        DateTimeOffset? best = null;
        Action? fire = null;
        foreach (var agent in _agents.Values.OrderBy(a => a.Id, StringComparer.Ordinal))
        {
            if (agent.NextDue() is { } due && (best is null || due < best))
            {
                best = due;
                fire = () => Turn(agent, () => AgentWake(agent));
            }
        }

        foreach (var (id, wake) in _queueWake.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (wake is { } due && (best is null || due < best))
            {
                best = due;
                fire = () => QueueWake(id);
            }
        }

        return (best, fire);
    }

    private void Perform(object item)
    {
        switch (item)
        {
            case SessionArrives arrives:
                CreateSession(arrives);
                break;
            case CustomerHangsUp hangsUp:
                Abandon(hangsUp.SessionId);
                break;
            case AgentChooses chooses:
                var agent = _agents[chooses.AgentId];
                Turn(agent, () => SetState(agent, chooses.State, chooses.Reason));
                break;
            case AnswerOffer { Response: OfferResponse.Accept } accept:
                var accepting = _agents[accept.AgentId];
                Turn(accepting, () =>
                {
                    if (Accept(accepting, accept.SessionId))
                    {
                        _agenda.Accepted(NowMs, accept.SessionId, accept.AgentId);
                    }
                });
                break;
            case AnswerOffer reject:
                var rejecting = _agents[reject.AgentId];
                Turn(rejecting, () => Reject(rejecting, reject.SessionId));
                break;
            case EndTalk end:
                var ending = _agents[end.AgentId];
                Turn(ending, () => End(ending, end.SessionId));
                break;
        }
    }

    // ---- Sessions (as SessionGrain) ----

    private void CreateSession(SessionArrives a)
    {
        var session = _sessions[a.SessionId] = new ModelSession(a.SessionId)
        {
            QueueId = a.QueueId,
            Channel = a.Channel,
            Age = a.CustomerAge,
            Segments = a.Segments,
            Skills = a.Skills,
            PreferredAgentId = a.PreferredAgentId,
            PreferredUntil = _now + TimeSpan.FromSeconds(a.PreferredAgentWaitSeconds),
            QueuedAt = _now,
            State = SessionState.Queued,
        };

        // The session waits in its queue (or, when that is full, its overflow queue) from now.
        if (Enqueue(session, a.QueueId, isReturn: false, sequence: null) is not { } sequence)
        {
            var overflow = _queues[a.QueueId].Policy.OverflowQueueId;
            if (overflow is null || Enqueue(session, overflow, isReturn: false, sequence: null) is not { } moved)
            {
                session.State = SessionState.Refused;
                return;
            }

            session.QueueId = overflow;
            sequence = moved;
        }

        session.Sequence = sequence;
    }

    private void Abandon(string sessionId)
    {
        var s = _sessions[sessionId];
        var was = s.State;
        var agent = s.AgentId;
        if (was is not (SessionState.Queued or SessionState.Offered))
        {
            return;
        }

        s.State = SessionState.Abandoned;
        if (was == SessionState.Queued)
        {
            QueueCall(s.QueueId, q => q.Leave(sessionId));
        }
        else if (agent is not null)
        {
            var a = _agents[agent];
            Turn(a, () => OfferWithdrawn(a, sessionId));
        }
    }

    private OfferReply SessionOffer(string sessionId, string agentId, DateTimeOffset expiresAt)
    {
        var s = _sessions[sessionId];
        if (s.State != SessionState.Queued)
        {
            return OfferReply.NotWaiting;
        }

        if (OfferTerms.HasExpired(expiresAt, _now))
        {
            return OfferReply.TooLate;
        }

        s.State = SessionState.Offered;
        s.AgentId = agentId;
        s.OfferExpiresAt = expiresAt;
        return OfferReply.Offered;
    }

    private bool Connect(string sessionId, string agentId)
    {
        var s = _sessions[sessionId];
        if (s.State != SessionState.Offered || s.AgentId != agentId || OfferTerms.HasExpired(s.OfferExpiresAt!.Value, _now))
        {
            return false;
        }

        s.State = SessionState.Connected;
        return true;
    }

    private void Requeue(string sessionId, string agentId)
    {
        var s = _sessions[sessionId];
        if (s.State != SessionState.Offered || s.AgentId != agentId)
        {
            return;
        }

        s.RejectedBy.Add(agentId);
        s.State = SessionState.Queued;
        s.AgentId = null;
        Enqueue(s, s.QueueId, isReturn: true, sequence: s.Sequence);
    }

    private void Overflow(string sessionId, string fromQueueId, string? overflowQueueId)
    {
        var s = _sessions[sessionId];
        if (s.State != SessionState.Queued || s.QueueId != fromQueueId)
        {
            return;
        }

        if (overflowQueueId is not null)
        {
            // It lives on in the overflow queue; its wait there starts now.
            var queuedAt = s.QueuedAt;
            s.QueuedAt = _now;
            if (Enqueue(s, overflowQueueId, isReturn: false, sequence: null) is { } sequence)
            {
                s.QueueId = overflowQueueId;
                s.Sequence = sequence;
                s.RejectedBy.Clear();
                return;
            }

            s.QueuedAt = queuedAt;
        }

        s.State = SessionState.Overflowed;
    }

    /// <summary>Asks a queue to hold the session; returns its place, or null when refused.</summary>
    private long? Enqueue(ModelSession s, string queueId, bool isReturn, long? sequence)
    {
        long? place = null;
        QueueCall(queueId, q =>
        {
            var demand = q.DemandFor(s.Id, s.Channel, s.QueuedAt, s.Age, s.Segments, s.Skills, s.PreferredAgentId, s.PreferredUntil, s.RejectedBy, sequence);
            if (q.Arrive(ref demand, isReturn, _now) == ArrivalOutcome.Accepted)
            {
                place = demand.Sequence;
            }
        });
        return place;
    }

    // ---- Queues (as QueueGrain) ----

    /// <summary>One call to a queue: the dispatcher takes the event, then the queue carries out what it decided and
    /// sets its wake-up.</summary>
    private void QueueCall(string queueId, Action<QueueDispatcher> call)
    {
        var q = _queues[queueId];
        call(q);
        CarryOut(q);
    }

    private void QueueWake(string queueId)
    {
        _queueWake[queueId] = null;
        QueueCall(queueId, q => q.Wake(_now));
    }

    private void CarryOut(QueueDispatcher q)
    {
        foreach (var decision in q.TakeDecisions())
        {
            Note($"{q.QueueId} decides {decision}");
            switch (decision)
            {
                case OfferDecision offer:
                    var agent = _agents[offer.AgentId];
                    Turn(agent, () =>
                    {
                        var (outcome, snapshot) = TryOffer(agent, offer, q.Policy);
                        QueueCall(q.QueueId, d => d.AttemptDone(offer.Session, offer.AgentId, outcome, snapshot, _now));
                    });
                    break;
                case ExpireDecision expire:
                    Overflow(expire.Session.SessionId, q.QueueId, expire.OverflowQueueId);
                    break;
                case AskAgentDecision ask:
                    var asked = _agents[ask.AgentId];
                    Turn(asked, () => Publish(asked));
                    break;
            }
        }

        _queueWake[q.QueueId] = q.NextWake(_now);
    }

    // ---- Agents (as AgentGrain) ----

    /// <summary>Runs <paramref name="work"/> as a turn of the agent: a message that reaches the agent during a turn
    /// (an offer attempt from a queue it just told of itself) waits until the turn is done, as in a grain.</summary>
    private static void Turn(ModelAgent agent, Action work)
    {
        if (agent.InTurn)
        {
            agent.Waiting.Enqueue(work);
            return;
        }

        agent.InTurn = true;
        try
        {
            work();
        }
        finally
        {
            agent.InTurn = false;
        }

        if (agent.Waiting.Count > 0)
        {
            Turn(agent, agent.Waiting.Dequeue());
        }
    }

    private void SetState(ModelAgent a, AgentState to, string? reason)
    {
        if (to == AgentState.LoggedOut && a.Sessions.Count > 0)
        {
            return; // refused: it holds work
        }

        if (to == AgentState.Ready && a.State != AgentState.Ready && a.Sessions.Count == 0)
        {
            a.IdleSince = _now;
        }

        a.State = to;
        a.Changed();
        Note($"{a.Id} chooses {to}: {a.Describe()}");
        PullIfFree(a);
    }

    private bool Accept(ModelAgent a, string sessionId)
    {
        if (!a.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Offered)
        {
            return false;
        }

        if (OfferTerms.HasExpired(held.ExpiresAt, _now))
        {
            MissOffers(a, [held]);
            return false;
        }

        if (!Connect(sessionId, a.Id))
        {
            if (_sessions[sessionId] is { State: SessionState.Offered } s && s.AgentId == a.Id)
            {
                MissOffers(a, [held]);
                return false;
            }

            a.Sessions.Remove(sessionId);
            a.Changed();
            PullIfFree(a);
            return false;
        }

        held.State = HeldState.Connected;
        a.Changed();
        return true;
    }

    private void Reject(ModelAgent a, string sessionId)
    {
        if (!a.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Offered)
        {
            return;
        }

        a.Sessions.Remove(sessionId);
        a.Changed();
        Note($"{a.Id} rejects {sessionId}: {a.Describe()}");
        Requeue(sessionId, a.Id);
        PullIfFree(a);
    }

    private void End(ModelAgent a, string sessionId)
    {
        if (!a.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Connected)
        {
            return;
        }

        _sessions[sessionId].State = SessionState.WrapUp;
        StartWrapUp(a, held);
    }

    private void StartWrapUp(ModelAgent a, ModelHeld held)
    {
        held.State = HeldState.WrapUp;
        held.WrapUpUntil = _now + TimeSpan.FromSeconds(held.WrapUpSeconds);
        if (held.WrapUpSeconds <= 0)
        {
            FinishWrapUps(a, [held]);
            return;
        }

        a.Changed();
    }

    private void FinishWrapUps(ModelAgent a, List<ModelHeld> done)
    {
        foreach (var held in done)
        {
            if (_sessions[held.SessionId] is { State: SessionState.WrapUp } s && s.AgentId == a.Id)
            {
                s.State = SessionState.Completed;
            }
        }

        foreach (var held in done)
        {
            a.Sessions.Remove(held.SessionId);
        }

        a.IdleSince = _now;
        a.Changed();
        Note($"{a.Id} finishes wrap-up: {a.Describe()}");
        PullIfFree(a);
    }

    private void OfferWithdrawn(ModelAgent a, string sessionId)
    {
        if (a.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.Offered)
        {
            a.Sessions.Remove(sessionId);
            a.Changed();
            PullIfFree(a);
        }
    }

    private void AgentWake(ModelAgent a)
    {
        var missed = a.Sessions.Values.Where(h => h.State == HeldState.Offered && OfferTerms.HasExpired(h.ExpiresAt, _now)).ToList();
        if (missed.Count > 0)
        {
            MissOffers(a, missed);
        }

        var done = a.Sessions.Values.Where(h => h.State == HeldState.WrapUp && h.WrapUpUntil <= _now).ToList();
        if (done.Count > 0)
        {
            FinishWrapUps(a, done);
        }
    }

    private void MissOffers(ModelAgent a, List<ModelHeld> missed)
    {
        foreach (var held in missed)
        {
            a.Sessions.Remove(held.SessionId);
        }

        a.State = AgentState.NotReady;
        a.Changed();
        foreach (var held in missed)
        {
            Requeue(held.SessionId, a.Id);
        }

        Publish(a);
    }

    private (AttemptOutcome Outcome, AgentSupply Snapshot) TryOffer(ModelAgent a, OfferDecision offer, QueuePolicy policy)
    {
        var session = offer.Session;
        EndStaleWrapUp(a, session.SessionId);
        var supply = a.Supply();
        if (a.Sessions.ContainsKey(session.SessionId) || !Eligibility.IsEligible(supply, session, policy, _now, out _))
        {
            return (AttemptOutcome.AgentUnavailable, supply);
        }

        var outcome = Offer(a, session, policy) switch
        {
            OfferReply.Offered => AttemptOutcome.Offered,
            OfferReply.TooLate => AttemptOutcome.OfferTooLate,
            _ => AttemptOutcome.SessionGone,
        };
        return (outcome, a.Supply());
    }

    private OfferReply Offer(ModelAgent a, SessionDemand session, QueuePolicy policy)
    {
        var held = new ModelHeld(session.SessionId, session.Channel, OfferTerms.ExpiresAt(_now, policy), policy.WrapUpSeconds);
        a.Sessions[session.SessionId] = held;
        a.Changed();
        var reply = SessionOffer(session.SessionId, a.Id, held.ExpiresAt);
        Note($"{a.Id} offers {session.SessionId}: {reply}, {a.Describe()}");
        if (reply == OfferReply.Offered)
        {
            _agenda.Offered(NowMs, session.SessionId, a.Id);
            return reply;
        }

        a.Sessions.Remove(session.SessionId);
        a.Changed();
        return reply;
    }

    private void EndStaleWrapUp(ModelAgent a, string sessionId)
    {
        if (a.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.WrapUp)
        {
            a.Sessions.Remove(sessionId);
            a.IdleSince = _now;
        }
    }

    /// <summary>Session surplus: while the agent has room, it takes the best session waiting for it across its queues.</summary>
    private void PullIfFree(ModelAgent a)
    {
        for (var pulls = 0; pulls < MaxPullsPerFreeUp; pulls++)
        {
            var supply = a.Supply();
            if (!supply.HasFreeCapacity || a.Queues.Count == 0)
            {
                break;
            }

            Candidate? claimed = null;
            QueueDispatcher? from = null;
            if (a.Queues.Count == 1)
            {
                from = _queues[a.Queues[0]];
                QueueCall(from.QueueId, q => claimed = q.Claim(supply, null, _now));
            }
            else
            {
                var peeks = a.Queues.Select(id => _queues[id].PeekFor(supply, _now)).ToList();
                var pick = CrossQueueChoice.Choose(peeks.Select(p => (p?.OfferInFlight == true, p?.Session)));
                Note($"{a.Id} peeks [{string.Join(", ", peeks.Select(p => p is null ? "-" : p.OfferInFlight ? "in flight" : p.Session!.SessionId))}]");
                if (pick.Session is not { } best)
                {
                    break;
                }

                from = _queues[best.QueueId];
                QueueCall(from.QueueId, q => claimed = q.Claim(supply, best.SessionId, _now));
                if (claimed is null)
                {
                    continue;
                }
            }

            if (claimed is not { } c)
            {
                break;
            }

            EndStaleWrapUp(a, c.Session.SessionId);
            var reply = Offer(a, c.Session, from.Policy);
            if (reply == OfferReply.TooLate)
            {
                QueueCall(from.QueueId, q => q.GiveBack(c.Session, _now));
            }

            if (reply != OfferReply.Offered)
            {
                break;
            }
        }

        Publish(a);
    }

    /// <summary>Tells every queue the agent serves its current availability.</summary>
    private void Publish(ModelAgent a)
    {
        var supply = a.Supply();
        Note($"{a.Id} publishes {a.Describe()}");
        foreach (var queueId in a.Queues)
        {
            QueueCall(queueId, q => q.AgentChanged(supply, _now));
        }
    }

    private enum OfferReply
    {
        Offered,
        NotWaiting,
        TooLate,
    }

    private enum HeldState
    {
        Offered,
        Connected,
        WrapUp,
    }

    private sealed class ModelSession(string id)
    {
        public string Id { get; } = id;

        public required string QueueId { get; set; }

        public required Channel Channel { get; init; }

        public int? Age { get; init; }

        public required IReadOnlyList<Segment> Segments { get; init; }

        public required IReadOnlyDictionary<string, int> Skills { get; init; }

        public string? PreferredAgentId { get; init; }

        public DateTimeOffset PreferredUntil { get; init; }

        public DateTimeOffset QueuedAt { get; set; }

        public long? Sequence { get; set; }

        public SessionState State { get; set; }

        public string? AgentId { get; set; }

        public DateTimeOffset? OfferExpiresAt { get; set; }

        public HashSet<string> RejectedBy { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ModelHeld(string sessionId, Channel channel, DateTimeOffset expiresAt, double wrapUpSeconds)
    {
        public string SessionId { get; } = sessionId;

        public Channel Channel { get; } = channel;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public double WrapUpSeconds { get; } = wrapUpSeconds;

        public HeldState State { get; set; } = HeldState.Offered;

        public DateTimeOffset WrapUpUntil { get; set; }
    }

    private sealed class ModelAgent(TraceAgent profile, DateTimeOffset now)
    {
        public string Id { get; } = profile.Id;

        public IReadOnlyList<string> Queues { get; } = profile.Queues;

        public AgentState State { get; set; } = AgentState.LoggedOut;

        public DateTimeOffset IdleSince { get; set; } = now;

        /// <summary>Starts where the grain's does after its profile was set (one change).</summary>
        public long Version { get; private set; } = 1;

        /// <summary>As the grain's record: held sessions keyed by id, changed by the same adds and removes in the same
        /// order, so they are enumerated in the same order.</summary>
        public Dictionary<string, ModelHeld> Sessions { get; } = new(StringComparer.Ordinal);

        public bool InTurn { get; set; }

        public Queue<Action> Waiting { get; } = new();

        public void Changed() => Version++;

        public string Describe() => $"v{Version} {State} [{string.Join(", ", Sessions.Values.Select(h => $"{h.SessionId} {h.State}"))}]";

        public DateTimeOffset? NextDue()
        {
            DateTimeOffset? next = null;
            foreach (var held in Sessions.Values)
            {
                DateTimeOffset? due = held.State switch
                {
                    HeldState.Offered => held.ExpiresAt,
                    HeldState.WrapUp => held.WrapUpUntil,
                    _ => null,
                };
                if (due is { } d && (next is null || d < next))
                {
                    next = d;
                }
            }

            return next;
        }

        public AgentSupply Supply() => new()
        {
            AgentId = Id,
            State = State,
            Skills = profile.Skills,
            Queues = Queues,
            Capacity = profile.Capacity,
            Active = Sessions.Values.GroupBy(h => h.Channel).ToDictionary(g => g.Key, g => g.Count()),
            IdleSince = IdleSince,
            Version = Version,
        };
    }
}
