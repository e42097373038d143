using Microsoft.Extensions.Logging;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Grains.Queues;

/// <summary>
/// One queue. Its routing decisions are made by a <see cref="QueueDispatcher"/>; the grain feeds it events, carries
/// out its decisions against other grains, keeps the stored record (<see cref="MemberListWriter"/>) and the waiting list
/// true to the session records (<see cref="WaitingListRecovery"/>). Its turns never wait on another grain: an offer
/// attempt runs beside the turns and its outcome comes back as a continuation, so sessions and agents may always call
/// a queue.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class QueueGrain(
    [PersistentState("queue", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<QueueRecord> state,
    RoutingClock clock,
    RoutingGrains grains,
    WorkTracker tracker,
    ISessionIndex index,
    Microsoft.Extensions.Options.IOptions<QueueOptions> options,
    ILogger<QueueGrain> logger) : Grain, IQueueGrain
{
    private QueueDispatcher _dispatcher = null!;
    private MemberListWriter _members = null!;
    private WaitingListRecovery _recovery = null!;
    private Alarm? _alarm;

    /// <summary>Waiting sessions that someone follows: only they are told their place. Not persisted: a session
    /// coming back after a restart says again whether it is followed (<see cref="EnqueueRequest.Followed"/>).</summary>
    private readonly HashSet<string> _followed = new(StringComparer.Ordinal);

    private QueueRecord Record => state.State;

    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = this.AsReference<IQueueGrain>();
        _alarm = new Alarm(clock, tracker, self.WakeAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"wake {Id}");
        _dispatcher = new QueueDispatcher(Id, Record.Policy, new DispatcherSettings(options.Value.PositionUpdateInterval, options.Value.PositionUpdateLimit));
        _members = new MemberListWriter(state, tracker, logger, Id, DeactivateOnIdle);
        _recovery = new WaitingListRecovery(index, GrainFactory, tracker, logger, Id, options.Value.ReconcileInterval, _dispatcher.Holds);

        // The roster of agents is persisted; their availability is not. Ask each agent to publish it again (without
        // waiting here: an agent may itself be waiting on this activation). A join that was acknowledged but not written
        // before a crash is not here: that agent publishes again by itself (see UpdateAgentAsync).
        foreach (var agentId in Record.Agents)
        {
            tracker.Track(Agent(agentId).RepublishAsync, ex => logger.BackgroundWorkFailed(ex, Id));
        }

        if (Record.Exists)
        {
            _dispatcher.BeginRecovery();
            _recovery.Recover(() =>
            {
                _dispatcher.EndRecovery(clock.Now);
                Execute();
            });
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _members.FlushAsync(cancellationToken);

    public async Task<QueueConfig> PutAsync(QueueConfig config)
    {
        await _members.ChangeAsync(record =>
        {
            record.Exists = true;
            record.Name = config.Name;
            record.Policy = config.Policy;
            _dispatcher.Policy = config.Policy;
        });
        Execute();
        return Config();
    }

    public Task<QueueConfig?> GetAsync()
    {
        ForgetIfUnknown();
        return Task.FromResult(Record.Exists ? Config() : null);
    }

    public Task<QueueLive> GetLiveAsync()
    {
        // Counted when asked (a wallboard asks about once a second), not kept up to date per session.
        var agents = _dispatcher.CountAgents();
        var bySegment = _dispatcher.CountWaitingBySegment().ToDictionary(kv => kv.Key, kv => new SegmentWaiting(kv.Value.Waiting, kv.Value.OldestArrival));
        return Task.FromResult(new QueueLive(Id, _dispatcher.WaitingCount, _dispatcher.OfferingCount, _dispatcher.OldestWaiting?.Arrival,
            _dispatcher.AgentCount, _dispatcher.FreeAgentCount)
        {
            ServiceLevelSeconds = Record.Policy.ServiceLevelSeconds,
            AgentsIdle = agents.Idle,
            AgentsBusy = agents.Busy,
            AgentsNotReady = agents.NotReady,
            BySegment = bySegment,
            CallbacksWaiting = _dispatcher.WaitingCallbackCount,
            CallbacksScheduled = _dispatcher.ScheduledCallbackCount,
        });
    }

    public Task<IReadOnlyList<AgentSupply>> GetAgentsAsync() => Task.FromResult(_dispatcher.Agents);

    public Task<EnqueueResult> EnqueueAsync(EnqueueRequest request)
    {
        if (!Record.Exists)
        {
            ForgetIfUnknown();
            return Task.FromResult(new EnqueueResult(EnqueueStatus.QueueNotFound, [], HeadStart.None));
        }

        var policy = Record.Policy;
        var demand = _dispatcher.DemandFor(request.SessionId, request.Channel, request.Arrival, request.CustomerAge, request.DeclaredSegments,
            request.Skills, request.PreferredAgentId, request.PreferredUntil, request.RejectedBy, request.Sequence) with { Callback = request.Callback };
        if (_dispatcher.Arrive(ref demand, request.IsReturn, clock.Now) == ArrivalOutcome.QueueFull)
        {
            return Task.FromResult(new EnqueueResult(EnqueueStatus.QueueFull, demand.Segments, demand.HeadStart, policy.OverflowQueueId));
        }

        if (request.Followed)
        {
            _followed.Add(request.SessionId);
        }

        Execute();
        return Task.FromResult(new EnqueueResult(EnqueueStatus.Accepted, demand.Segments, demand.HeadStart, Sequence: demand.Sequence, ServiceLevelSeconds: policy.ServiceLevelSeconds));
    }

    public Task SessionFollowedAsync(string sessionId, bool followed)
    {
        if (followed && _dispatcher.Holds(sessionId))
        {
            _followed.Add(sessionId);
        }
        else
        {
            _followed.Remove(sessionId);
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string sessionId)
    {
        _followed.Remove(sessionId);
        _dispatcher.Leave(sessionId);
        Execute();
        return Task.CompletedTask;
    }

    public Task RequestCallbackAsync(string sessionId, DateTimeOffset? at)
    {
        _dispatcher.RequestCallback(sessionId, at, clock.Now);
        Execute();
        return Task.CompletedTask;
    }

    public Task<bool> UpdateAgentAsync(AgentSupply agent)
    {
        var serves = _dispatcher.AgentChanged(agent, clock.Now);
        var stored = _members.Note(agent.AgentId, serves);
        Execute();
        return Task.FromResult(stored);
    }

    public Task<PeekResult?> PeekBestAsync(AgentSupply agent)
    {
        var peek = _dispatcher.PeekFor(agent, clock.Now);
        return Task.FromResult(peek switch
        {
            null => null,
            { OfferInFlight: true } => new PeekResult(string.Empty, null, OfferInFlight: true),
            { Session: { } session } => new PeekResult(session.SessionId, session),
            _ => null,
        });
    }

    public Task<ClaimedSession?> ClaimAsync(AgentSupply agent, string? sessionId)
    {
        var claimed = _dispatcher.Claim(agent, sessionId, clock.Now) is { } c ? new ClaimedSession(c.Session, Record.Policy, c.RelaxationStep) : null;
        Execute();
        return Task.FromResult(claimed);
    }

    public Task GiveBackAsync(SessionDemand session)
    {
        _dispatcher.GiveBack(session, clock.Now);
        Execute();
        return Task.CompletedTask;
    }

    public Task WakeAsync()
    {
        _alarm?.Clear();
        var now = clock.Now;
        _dispatcher.Wake(now);
        _recovery.WakeIfDue(now, _dispatcher.Recovering, ArmAlarm);
        Execute();
        return Task.CompletedTask;
    }

    /// <summary>Carries out what the dispatcher decided, then sets the alarm for its next wake-up.</summary>
    private void Execute()
    {
        foreach (var decision in _dispatcher.TakeDecisions())
        {
            switch (decision)
            {
                case OfferDecision offer:
                    StartAttempt(offer);
                    break;
                case ExpireDecision expire:
                    var session = Session(expire.Session.SessionId);
                    tracker.Track(() => session.OverflowAsync(Id, expire.OverflowQueueId), ex => logger.BackgroundWorkFailed(ex, Id), $"overflow {expire.Session.SessionId}");
                    break;
                case AskAgentDecision ask:
                    AskAgent(ask.AgentId);
                    break;
                case PositionsDecision positions:
                    TellPositions(positions.Positions);
                    break;
            }
        }

        ArmAlarm();
    }

    /// <summary>Asks the agent to reserve capacity and offer the session, beside this grain's turns; the outcome goes
    /// back to the dispatcher in a continuation on this grain.</summary>
    private void StartAttempt(OfferDecision offer)
    {
        var request = new OfferRequest { Session = offer.Session, Policy = Record.Policy, CandidateCount = offer.CandidateCount, Kind = offer.Kind };
        var agent = Agent(offer.AgentId);
        tracker.Track(async () =>
        {
            OfferAttemptResult? result = null;
            try
            {
                result = await agent.TryOfferAsync(request);
            }
            catch (Exception ex)
            {
                logger.OfferAttemptFailed(ex, offer.Session.SessionId, offer.AgentId);
            }

            var outcome = result?.Status switch
            {
                null => AttemptOutcome.NoAnswer,
                OfferAttemptStatus.Offered => AttemptOutcome.Offered,
                OfferAttemptStatus.AgentUnavailable => AttemptOutcome.AgentUnavailable,
                OfferAttemptStatus.SessionGone => AttemptOutcome.SessionGone,
                _ => AttemptOutcome.OfferTooLate,
            };
            _dispatcher.AttemptDone(offer.Session, offer.AgentId, outcome, result?.Agent, clock.Now);
            Execute();
        }, ex => logger.BackgroundWorkFailed(ex, Id), $"offer {offer.Session.SessionId} to {offer.AgentId} from {Id}");
    }

    /// <summary>Asks an agent that did not answer an offer attempt to publish its availability again (it comes back
    /// through <see cref="UpdateAgentAsync"/>); one that cannot be reached is asked again at a later wake-up.</summary>
    private void AskAgent(string agentId)
    {
        var agent = Agent(agentId);
        tracker.Track(async () =>
        {
            try
            {
                await agent.RepublishAsync();
            }
            catch (Exception ex)
            {
                logger.BackgroundWorkFailed(ex, Id);
                _dispatcher.AgentUnreachable(agentId, clock.Now);
                ArmAlarm();
            }
        }, label: $"republish {agentId} for {Id}");
    }

    /// <summary>Tells each followed waiting session its place (one-way, through the session, which passes it on to its
    /// followers). Sessions nobody follows are told nothing; those no longer waiting here are forgotten.</summary>
    private void TellPositions(IReadOnlyList<WaitingPosition> positions)
    {
        if (_followed.Count == 0)
        {
            return;
        }

        _followed.RemoveWhere(id => !_dispatcher.Holds(id));
        var now = clock.Now;
        foreach (var p in positions)
        {
            if (_followed.Contains(p.SessionId))
            {
                Session(p.SessionId).PositionAsync(new SessionUpdate
                {
                    SessionId = p.SessionId,
                    Type = SessionEventType.Position,
                    State = RoutingCluster.Routing.Model.SessionState.Queued,
                    QueueId = Id,
                    At = now,
                    Position = p.Position,
                    EstimatedWaitSeconds = p.EstimatedWaitSeconds,
                    CallbackProposed = p.CallbackProposed,
                }).Ignore();
            }
        }
    }

    private void ArmAlarm()
    {
        var now = clock.Now;
        var next = _dispatcher.NextWake(now);
        if (_recovery.NextDue(now, Record.Exists) is { } reconcile && (next is null || reconcile < next))
        {
            next = reconcile;
        }

        _alarm?.Set(next);
    }

    /// <summary>Queues stay active while they exist (their waiting list lives in memory); a lookup of an id that
    /// names no queue (and that no agent serves) must not pin an activation.</summary>
    private void ForgetIfUnknown()
    {
        if (!Record.Exists && _members.MemberCount == 0 && !_members.Writing)
        {
            DeactivateOnIdle();
        }
    }

    private IAgentGrain Agent(string id) => grains.Agent(id);

    private ISessionGrain Session(string id) => grains.Session(id);

    private QueueConfig Config() => new() { Id = Id, Name = Record.Name, Policy = Record.Policy };
}
