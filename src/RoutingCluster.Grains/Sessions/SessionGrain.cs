using Microsoft.Extensions.Logging;
using Orleans.Placement;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Common;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Sessions;

/// <summary>
/// The authority on one session's lifecycle. Every transition is checked against the current state and
/// written before it is acknowledged, so a session is offered to at most one agent and ends exactly once.
/// It waits on queues (which never wait on anyone) and notifies agents without waiting on them: agents wait
/// on sessions, so the call graph has no cycle.
/// </summary>
/// <remarks>
/// It activates on the silo of its first caller: the HTTP edge of the silo that received the create, which then
/// reaches it without crossing the network (and so do the gateway's reads and events served by that silo). A session
/// whose silo was lost activates again on the silo of the next call to it.
/// </remarks>
[PreferLocalPlacement]
public sealed class SessionGrain(
    [PersistentState("session", RoutingGrainsServiceCollectionExtensions.SessionStorageName)] IPersistentState<SessionRecord> state,
    RoutingClock clock,
    RoutingGrains grains,
    WorkTracker tracker,
    KpiCollector kpi,
    EventDrops drops,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    /// <summary>How long after its expiry an offer may stay open before the session takes it back itself. The agent's
    /// own alarm ends an offer at its expiry; this is the safety net for an offer its agent no longer holds.</summary>
    public static readonly TimeSpan OrphanedOfferGrace = TimeSpan.FromSeconds(5);

    /// <summary>How long a finished session stays active after its last call before it deactivates.</summary>
    public static readonly TimeSpan FinishedLinger = TimeSpan.FromSeconds(2);

    private SessionFollowers? _followers;
    private Alarm? _alarm;

    private SessionRecord Record => state.State;

    private SessionFollowers Followers => _followers ??= new(tracker, drops);

    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = this.AsReference<ISessionGrain>();
        _alarm = new Alarm(clock, tracker, self.WakeAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"wake {Id}");
        ArmAlarm();
        LeaveIfFinished();
        return Task.CompletedTask;
    }

    public async Task<CreateSessionResult> CreateAsync(NewSession request)
    {
        if (Record.Exists)
        {
            return Record.Fingerprint == request.Fingerprint
                ? new CreateSessionResult(CreateStatus.AlreadyExists, View())
                : new CreateSessionResult(CreateStatus.KeyReused, null, "The idempotency key was used before with a different request.");
        }

        var now = clock.Now;
        var enqueue = new EnqueueRequest
        {
            SessionId = Id,
            Channel = request.Channel,
            Arrival = now,
            CustomerAge = request.Customer.Age,
            DeclaredSegments = request.Customer.Segments,
            Skills = request.Skills,
            PreferredAgentId = request.PreferredAgentId,
            PreferredUntil = now + TimeSpan.FromSeconds(request.PreferredAgentWaitSeconds),
            Followed = IsFollowed(now),
        };
        var queueId = request.QueueId;
        var result = await grains.Queue(queueId).EnqueueAsync(enqueue);
        if (result.Status == EnqueueStatus.QueueNotFound)
        {
            return new CreateSessionResult(CreateStatus.QueueNotFound, null, $"Queue '{queueId}' does not exist.");
        }

        var history = new List<SessionEvent>();
        if (result.Status == EnqueueStatus.QueueFull && result.OverflowQueueId is { } overflow)
        {
            // A full queue with an overflow queue sends the new session there instead of refusing it.
            var moved = await grains.Queue(overflow).EnqueueAsync(enqueue);
            if (moved.Status == EnqueueStatus.Accepted)
            {
                queueId = overflow;
            }

            result = moved;
        }

        Fill(request, queueId, now, result);
        if (result.Status != EnqueueStatus.Accepted)
        {
            // Refused sessions are recorded too: the gateway gets an error, and the refusal can be counted. Ended at
            // once, so without the customer's personal data from its first write.
            Record.State = SessionState.Refused;
            Record.CompletedAt = now;
            history.Add(new SessionEvent(SessionState.Refused, now, queueId, null, "queue full"));
            Record.History = history;
            ForgetPersonalData();
            await state.WriteStateAsync();
            Count(SessionKpiRules.Refused(), queuedAt: now);
            logger.SessionRefused(Id, queueId);
            Publish(SessionEventType.Refused, now);
            LeaveIfFinished();
            return new CreateSessionResult(CreateStatus.Refused, View(), $"Queue '{queueId}' is full.");
        }

        history.Add(new SessionEvent(SessionState.Queued, now, queueId, null, queueId == request.QueueId ? null : $"queue {request.QueueId} full; overflowed here"));
        Record.History = history;

        // Written before the gateway hears "created": an acknowledged session survives a crash. The queue
        // already holds it; an offer that reaches this grain before the write completes waits for this turn.
        await state.WriteStateAsync();
        if (queueId != request.QueueId)
        {
            // Turned away by the full queue it was meant for, offered to its overflow queue instead.
            kpi.Record(new SessionKpi(request.QueueId, null, Record.Channel, Record.Segments, now, SessionKpiRules.Refused()));
        }

        Count(SessionKpiRules.Queued());
        logger.SessionQueued(Id, queueId, request.Channel);
        Publish(SessionEventType.Queued, now);
        return new CreateSessionResult(CreateStatus.Created, View());
    }

    public Task<SessionView?> GetAsync() => Task.FromResult(Record.Exists ? View() : null);

    public Task<SessionView?> FollowAsync(ISessionFollower follower)
    {
        // A session that has ended has nothing more to tell: its follower gets the last state and stops. One that does
        // not exist yet may be followed from before its creation.
        if (!(Record.Exists && Record.State.IsTerminal()))
        {
            if (Followers.Follow(follower, clock.Now))
            {
                TellQueueFollowed(true);
            }

            // Kept active while followed: the followers are known to this activation only.
            DelayDeactivation(SessionFollowers.Lease);
        }

        return Task.FromResult(Record.Exists ? View() : null);
    }

    public Task UnfollowAsync(ISessionFollower follower)
    {
        if (_followers is not null && _followers.Unfollow(follower, clock.Now))
        {
            TellQueueFollowed(false);
        }

        return Task.CompletedTask;
    }

    public Task PositionAsync(SessionUpdate update)
    {
        if (Record.State != SessionState.Queued || Record.QueueId != update.QueueId)
        {
            return Task.CompletedTask; // moved on since the queue counted it
        }

        if (!IsFollowed(clock.Now))
        {
            // The last follower's lease ran out: the queue stops telling this session its place.
            TellQueueFollowed(false);
            return Task.CompletedTask;
        }

        Followers.Push(update, clock.Now);
        return Task.CompletedTask;
    }

    public async Task<Answer<SessionView>> AbandonAsync()
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Session '{Id}' does not exist.");
        }

        var was = Record.State;
        var agent = Record.AgentId;
        if (was is not (SessionState.Queued or SessionState.Offered))
        {
            return Outcome.Conflict($"Session '{Id}' is {Wire(was)}: only a queued or offered session can be abandoned.");
        }

        var now = clock.Now;
        Record.EndedAt = now;
        await Transition(SessionState.Abandoned, Record.AgentId, now);
        Count(SessionKpiRules.Abandoned(), forAgent: false); // the queue's count: the customer left, not the agent
        if (was == SessionState.Queued)
        {
            await grains.Queue(Record.QueueId).RemoveAsync(Id);
        }
        else if (agent is not null)
        {
            Notify(agent, a => a.OfferWithdrawnAsync(Id));
        }

        LeaveIfFinished();
        return new Answer<SessionView>(Outcome.Ok, View());
    }

    public async Task<Outcome> RequestCallbackAsync(DateTimeOffset? at)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Session '{Id}' does not exist.");
        }

        if (Record.State != SessionState.Queued)
        {
            return Outcome.Conflict($"Session '{Id}' is {Wire(Record.State)}: only a queued session can be called back.");
        }

        if (Record.CallbackRequestedAt is not null)
        {
            if (Record.CallbackAt != at)
            {
                return Outcome.Conflict($"Session '{Id}' is already a callback.");
            }

            // The same request again (a retry whose answer was lost, or whose call to the queue failed after the write):
            // the queue is told again, which changes nothing if it knew.
            await grains.Queue(Record.QueueId).RequestCallbackAsync(Id, at);
            return Outcome.Ok;
        }

        var now = clock.Now;
        Record.CallbackRequestedAt = now;
        Record.CallbackAt = at;

        // Written before it is acknowledged (and before the queue hears of it): after a crash the session comes back to
        // its queue as a callback, a scheduled one at its time.
        await state.WriteStateAsync();
        await grains.Queue(Record.QueueId).RequestCallbackAsync(Id, at);
        Count(SessionKpiRules.CallbackRequested());
        logger.CallbackRequested(Id, Record.QueueId, at is not null);
        return Outcome.Ok;
    }

    public async Task<Answer<SessionView>> TransferAsync(string targetQueueId, string? targetAgentId, double agentWaitSeconds)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Session '{Id}' does not exist.");
        }

        if (Record.State != SessionState.Connected)
        {
            return Outcome.Conflict($"Session '{Id}' is {Wire(Record.State)}: only a connected session can be transferred.");
        }

        var now = clock.Now;
        var request = new EnqueueRequest
        {
            SessionId = Id,
            Channel = Record.Channel,
            Arrival = now,
            CustomerAge = Record.Customer?.Age,
            DeclaredSegments = Record.Customer?.Segments ?? [],
            Skills = Record.Skills,
            PreferredAgentId = targetAgentId,
            PreferredUntil = now + TimeSpan.FromSeconds(agentWaitSeconds),
            IsReturn = false,
            Followed = IsFollowed(now),
        };
        var result = await grains.Queue(targetQueueId).EnqueueAsync(request);
        if (result.Status == EnqueueStatus.QueueNotFound)
        {
            return Outcome.NotFound($"Queue '{targetQueueId}' does not exist.");
        }

        if (result.Status == EnqueueStatus.QueueFull)
        {
            return Outcome.Conflict($"Queue '{targetQueueId}' is full.");
        }

        var previousAgent = Record.AgentId!;
        var talked = new SessionKpi(Record.QueueId, previousAgent, Record.Channel, Record.Segments, Record.QueuedAt,
            SessionKpiRules.TransferredAway(now - Record.AnsweredAt!.Value));
        Record.QueueId = targetQueueId;
        Record.Segments = [.. result.Segments];
        Record.PreferredAgentId = targetAgentId;
        Record.PreferredUntil = request.PreferredUntil;
        Record.QueuedAt = now;
        Record.QueueSequence = result.Sequence;
        Record.ServiceLevelSeconds = result.ServiceLevelSeconds;
        Record.RejectedBy.Clear();
        Record.OfferedAt = Record.OfferExpiresAt = null;
        Record.Explanation = null;
        Record.CallbackRequestedAt = Record.CallbackAt = null; // the customer is on the line with the agent now
        await Transition(SessionState.Queued, null, now, $"transferred by {previousAgent}", SessionEventType.Transferred);

        // The stay that ends here was answered: its talk ends now, with no after-call work. A new stay starts.
        kpi.Record(talked);
        Count(SessionKpiRules.Queued());
        Notify(previousAgent, a => a.SessionTransferredAsync(Id));
        return new Answer<SessionView>(Outcome.Ok, View());
    }

    public async Task<OfferReply> OfferAsync(OfferCommand offer)
    {
        var now = clock.Now;
        if (!Record.Exists || Record.State != SessionState.Queued)
        {
            return OfferReply.NotWaiting;
        }

        if (offer.Callback != Record.CallbackRequestedAt.HasValue)
        {
            // The customer asked for a callback after the queue chose this session for an inbound offer: refused like an
            // offer that came too late, so the queue keeps the session, now as a callback.
            return OfferReply.TooLate;
        }

        if (OfferTerms.HasExpired(offer.ExpiresAt, now))
        {
            // Its agent lets the offer go; the session still waits, and its queue must keep it (a queue that dropped it
            // here would leave it waiting forever, seen after a silo was killed mid-offer).
            return OfferReply.TooLate;
        }

        Record.OfferedAt = now;
        Record.OfferExpiresAt = offer.ExpiresAt;
        Record.Explanation = offer.Explanation;
        await Transition(SessionState.Offered, offer.AgentId, now);
        ArmAlarm();
        logger.SessionOffered(Id, offer.AgentId, offer.Explanation.Decision, offer.Explanation.Score);
        return OfferReply.Offered;
    }

    public async Task<Outcome> ConnectAsync(string agentId)
    {
        if (Record.State == SessionState.Connected && Record.AgentId == agentId)
        {
            return Outcome.Ok; // a repeat (the agent's own write after the first one may have been lost in a crash)
        }

        if (Record.State != SessionState.Offered || Record.AgentId != agentId)
        {
            return Outcome.Conflict($"Session '{Id}' is not offered to agent '{agentId}'.");
        }

        var now = clock.Now;
        if (Record.OfferExpiresAt is { } expiresAt && OfferTerms.HasExpired(expiresAt, now))
        {
            return Outcome.Conflict($"The offer of session '{Id}' expired at {Record.OfferExpiresAt:O}.");
        }

        Record.AnsweredAt = now;
        await Transition(SessionState.Connected, agentId, now);
        // A scheduled callback waits from its time, not from when the customer first called.
        var speed = now - (Record.CallbackAt ?? Record.QueuedAt);
        Count(SessionKpiRules.Answered(speed, Record.ServiceLevelSeconds, Record.CallbackRequestedAt is not null));
        return Outcome.Ok;
    }

    public async Task RequeueAsync(string agentId, RequeueReason reason)
    {
        if (Record.State != SessionState.Offered || Record.AgentId != agentId)
        {
            return;
        }

        // Back at its original place: the queue orders it by the same arrival time as before.
        Record.RejectedBy.Add(agentId);
        Record.OfferedAt = Record.OfferExpiresAt = null;
        Record.Explanation = null;
        await Transition(SessionState.Queued, null, clock.Now, reason == RequeueReason.Rejected ? $"rejected by {agentId}" : $"missed by {agentId}");
        await grains.Queue(Record.QueueId).EnqueueAsync(Demand(isReturn: true));
    }

    public async Task<Outcome> EndAsync(string agentId)
    {
        if (Record.State == SessionState.WrapUp && Record.AgentId == agentId)
        {
            return Outcome.Ok; // a repeat (the agent's own write after the first one may have been lost in a crash)
        }

        if (Record.State != SessionState.Connected || Record.AgentId != agentId)
        {
            return Outcome.Conflict($"Session '{Id}' is not connected to agent '{agentId}'.");
        }

        var now = clock.Now;
        Record.EndedAt = now;
        await Transition(SessionState.WrapUp, agentId, now);
        Count(SessionKpiRules.TalkEnded((Record.EndedAt - Record.AnsweredAt)!.Value));
        return Outcome.Ok;
    }

    public async Task CompleteAsync(string agentId)
    {
        if (Record.State != SessionState.WrapUp || Record.AgentId != agentId)
        {
            return;
        }

        var now = clock.Now;
        Record.CompletedAt = now;
        await Transition(SessionState.Completed, agentId, now);
        Count(SessionKpiRules.WrappedUp((Record.CompletedAt - Record.EndedAt)!.Value));
        LeaveIfFinished();
    }

    public async Task WakeAsync()
    {
        _alarm?.Clear();
        if (Record.Exists && Record.State.IsTerminal())
        {
            DeactivateOnIdle();
            return;
        }

        if (Record.State != SessionState.Offered || Record.OfferExpiresAt is not { } expiresAt || Record.AgentId is not { } agentId)
        {
            return;
        }

        if (clock.Now < expiresAt + OrphanedOfferGrace)
        {
            ArmAlarm();
            return;
        }

        // The agent's alarm should have ended this offer at its expiry; it did not (its grain lost the offer in a crash
        // between the two writes, or gave it up before this offer arrived). Back to the queue at the original place, and
        // the agent is told, in case it still holds it.
        logger.OrphanedOfferReturned(Id, agentId);
        await RequeueAsync(agentId, RequeueReason.Missed);
        Notify(agentId, a => a.OfferWithdrawnAsync(Id));
    }

    public async Task ResumeAsync()
    {
        if (Record.Exists && Record.State == SessionState.Queued)
        {
            await grains.Queue(Record.QueueId).EnqueueAsync(Demand(isReturn: true));
        }
    }

    public async Task OverflowAsync(string fromQueueId, string? overflowQueueId)
    {
        if (Record.State != SessionState.Queued || Record.QueueId != fromQueueId)
        {
            return;
        }

        if (Record.CallbackRequestedAt is not null)
        {
            // A callback is not expired for waiting: its queue did not know it was one (the request's call to the queue
            // failed after the write). It goes back to its place, as a callback.
            await grains.Queue(Record.QueueId).EnqueueAsync(Demand(isReturn: true));
            return;
        }

        var now = clock.Now;
        logger.SessionOverflowed(Id, fromQueueId, overflowQueueId);
        if (overflowQueueId is not null)
        {
            // It lives on in the overflow queue; its wait there (and so its max wait) starts now.
            var request = Demand(isReturn: false) with { Arrival = now };
            var moved = await grains.Queue(overflowQueueId).EnqueueAsync(request);
            if (moved.Status == EnqueueStatus.Accepted)
            {
                var left = new SessionKpi(Record.QueueId, null, Record.Channel, Record.Segments, Record.QueuedAt, SessionKpiRules.Overflowed());
                Record.QueueId = overflowQueueId;
                Record.QueuedAt = now;
                Record.QueueSequence = moved.Sequence;
                Record.ServiceLevelSeconds = moved.ServiceLevelSeconds;
                Record.Segments = [.. moved.Segments];
                Record.RejectedBy.Clear();
                await Transition(SessionState.Queued, null, now, $"overflow from {fromQueueId}", SessionEventType.Overflowed);
                kpi.Record(left);
                Count(SessionKpiRules.Queued());
                return;
            }
        }

        Record.EndedAt = now;
        await Transition(SessionState.Overflowed, null, now, "max wait reached");
        Count(SessionKpiRules.Overflowed());
        LeaveIfFinished();
    }

    private void Fill(NewSession request, string queueId, DateTimeOffset now, EnqueueResult result)
    {
        Record.Exists = true;
        Record.Fingerprint = request.Fingerprint;
        Record.QueueId = queueId;
        Record.Channel = request.Channel;
        Record.Customer = request.Customer;
        Record.Segments = [.. result.Segments];
        Record.Skills = new Dictionary<string, int>(request.Skills);
        Record.PreferredAgentId = request.PreferredAgentId;
        Record.PreferredUntil = now + TimeSpan.FromSeconds(request.PreferredAgentWaitSeconds);
        Record.Attributes = new Dictionary<string, string>(request.Attributes);
        Record.State = SessionState.Queued;
        Record.CreatedAt = now;
        Record.QueuedAt = now;
        Record.QueueSequence = result.Sequence;
        Record.ServiceLevelSeconds = result.ServiceLevelSeconds;
    }

    /// <summary>
    /// A customer's age and the gateway's attributes do not outlive the session: an ended session keeps the customer's
    /// pseudonym (for repeat-contact figures) and declared segments, and the segments that applied, nothing more.
    /// Called before the terminal state is written, so the stored record and this activation lose them together.
    /// </summary>
    private void ForgetPersonalData()
    {
        Record.Customer = Record.Customer?.Forgotten();
        if (Record.Attributes.Count > 0)
        {
            Record.Attributes = [];
        }
    }

    private void ArmAlarm() =>
        _alarm?.Set(Record.State == SessionState.Offered && Record.OfferExpiresAt is { } expiresAt ? expiresAt + OrphanedOfferGrace : null);

    /// <summary>Counts for the session's current stay (queue, segments, start) and agent, after the transition was written.</summary>
    private void Count(KpiCounters counts, DateTimeOffset? queuedAt = null, bool forAgent = true) =>
        kpi.Record(new SessionKpi(Record.QueueId, forAgent ? Record.AgentId : null, Record.Channel, Record.Segments, queuedAt ?? Record.QueuedAt, counts));

    /// <remarks><paramref name="at"/> is the instant the caller stamped the transition with and counts from (answered
    /// at, ended at, the new stay's start): the history records that same instant, never a second reading of the clock,
    /// so KPIs recomputed from the stored history equal the live counts to the tick.</remarks>
    private async Task Transition(SessionState to, string? agentId, DateTimeOffset at, string? note = null, SessionEventType? type = null)
    {
        Record.State = to;
        Record.AgentId = agentId;
        Record.History.Add(new SessionEvent(to, at, Record.QueueId, agentId, note));
        if (to.IsTerminal())
        {
            // The terminal write is the first without the customer's personal data: no extra write to remove it.
            ForgetPersonalData();
        }

        // Every session transition is written before it is acknowledged: each one changes who may act on the
        // session next (offered → only that agent may connect it; terminal → nobody), so losing one in a
        // crash could offer it twice or end it twice. Each one carries something a crash needs: queued is the place in
        // the queue a restart rebuilds; offered is what recovery finds to restart the offer's expiry; connected
        // holds the agent's capacity and the answered count; wrap-up is what recovery finds to end the wrap-up;
        // completed releases the session from recovery and is the last view its gateway was shown. What is saved
        // instead is the cost per row: the writes of many grains share one commit (the PostgreSQL group commit),
        // and a session created under a new id is never read first (FreshGrainKey).
        await state.WriteStateAsync();
        logger.SessionTransition(Id, to);
        Publish(type ?? EventTypeOf(to), at, to == SessionState.Offered ? KindOfOffer : null);
    }

    /// <summary>
    /// A finished session has nothing left to do: its alarm is replaced by one last wake-up, <see cref="FinishedLinger"/>
    /// later, which deactivates it, so it keeps no activation in memory. (Not at once: a gateway commonly reads the
    /// session right after the action that finished it, and a call that reaches an activation as it deactivates is
    /// refused.) A later read activates it again from its stored record, for as long as the storage keeps it.
    /// </summary>
    private void LeaveIfFinished()
    {
        if (Record.Exists && Record.State.IsTerminal())
        {
            _alarm?.Set(clock.Now + FinishedLinger);
        }
    }

    /// <summary>Tells whoever follows the session (its gateway) what just happened; nothing when nobody follows.</summary>
    private void Publish(SessionEventType type, DateTimeOffset at, OfferKind? kind = null)
    {
        if (_followers is null || !_followers.Any(clock.Now))
        {
            return;
        }

        _followers.Push(new SessionUpdate
        {
            SessionId = Id,
            Type = type,
            State = Record.State,
            QueueId = Record.QueueId,
            AgentId = Record.AgentId,
            At = at,
            Kind = kind,
        }, clock.Now);
    }

    private OfferKind KindOfOffer => Record.CallbackRequestedAt is null ? OfferKind.Inbound : OfferKind.Callback;

    private bool IsFollowed(DateTimeOffset now) => _followers is not null && _followers.Any(now);

    /// <summary>A waiting session tells its queue whether to tell it its place (one-way: it does not wait on the queue).</summary>
    private void TellQueueFollowed(bool followed)
    {
        if (Record.Exists && Record.State == SessionState.Queued)
        {
            grains.Queue(Record.QueueId).SessionFollowedAsync(Id, followed).Ignore();
        }
    }

    private static SessionEventType EventTypeOf(SessionState state) => state switch
    {
        SessionState.Queued => SessionEventType.Queued,
        SessionState.Offered => SessionEventType.Offered,
        SessionState.Connected => SessionEventType.Connected,
        SessionState.WrapUp => SessionEventType.Ended,
        SessionState.Completed => SessionEventType.Completed,
        SessionState.Abandoned => SessionEventType.Abandoned,
        SessionState.Overflowed => SessionEventType.Overflowed,
        _ => SessionEventType.Refused,
    };

    private EnqueueRequest Demand(bool isReturn) => new()
    {
        SessionId = Id,
        Channel = Record.Channel,
        Arrival = Record.CallbackAt ?? Record.QueuedAt,
        CustomerAge = Record.Customer?.Age,
        DeclaredSegments = Record.Customer?.Segments ?? [],
        Skills = Record.Skills,
        PreferredAgentId = Record.PreferredAgentId,
        PreferredUntil = Record.PreferredUntil,
        RejectedBy = [.. Record.RejectedBy],
        IsReturn = isReturn,
        Sequence = isReturn ? Record.QueueSequence : null,
        Followed = IsFollowed(clock.Now),
        Callback = Record.CallbackRequestedAt is not null,
    };

    /// <summary>Tells an agent something without waiting for it: agents wait on sessions, never the reverse.</summary>
    private void Notify(string agentId, Func<IAgentGrain, Task> call)
    {
        var agent = grains.Agent(agentId);
        tracker.Track(() => call(agent), ex => logger.BackgroundWorkFailed(ex, Id), $"notify {agentId} from {Id}");
    }

    private SessionView View() => new()
    {
        Id = Id,
        State = Record.State,
        QueueId = Record.QueueId,
        Channel = Record.Channel,
        AgentId = Record.AgentId,
        Segments = Record.Segments,
        CreatedAt = Record.CreatedAt,
        OfferedAt = Record.OfferedAt,
        AnsweredAt = Record.AnsweredAt,
        EndedAt = Record.EndedAt,
        CompletedAt = Record.CompletedAt,
        QueuedAt = Record.State == SessionState.Queued ? Record.QueuedAt : null,
        OfferExpiresAt = Record.State == SessionState.Offered ? Record.OfferExpiresAt : null,
        Explanation = Record.Explanation,
        Skills = Record.Skills,
        PreferredAgentId = Record.PreferredAgentId,
        RejectedBy = [.. Record.RejectedBy],
        History = [.. Record.History],
        Callback = Record.CallbackRequestedAt is { } requestedAt ? new CallbackView(requestedAt, Record.CallbackAt) : null,
    };

    private static string Wire(SessionState s) => WireNames<SessionState>.Of(s);
}
