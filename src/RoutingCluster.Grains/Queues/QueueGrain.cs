using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Ordering;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Grains.Queues;

/// <summary>
/// One queue: waiting sessions in service order and the latest availability of its agents. Its turns never
/// wait on another grain: an offer attempt (agent surplus: a new session, several free agents) runs beside
/// the turns and its result comes back as a continuation. So sessions and agents may always call a queue.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class QueueGrain(
    [PersistentState("queue", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<QueueRecord> state,
    RoutingClock clock,
    WorkTracker tracker,
    ISessionIndex index,
    Microsoft.Extensions.Options.IOptions<QueueOptions> options,
    ILogger<QueueGrain> logger) : Grain, IQueueGrain
{
    private readonly WaitingList _waiting = new();
    private readonly AgentRoster _roster = new();

    /// <summary>Sessions taken out of the waiting list for an offer attempt in flight, by agent.</summary>
    private readonly Dictionary<string, string> _offering = new(StringComparer.Ordinal);
    private readonly HashSet<string> _agentsBusy = new(StringComparer.Ordinal);
    private readonly HashSet<string> _cancelled = new(StringComparer.Ordinal);

    /// <summary>Agents taken off the roster because an offer attempt got no answer (their silo died or was too slow).
    /// Each is asked to publish its availability again at every wake-up until it answers: an idle agent publishes only
    /// when it changes, so without this the queue would never count on it again.</summary>
    private readonly HashSet<string> _unanswered = new(StringComparer.Ordinal);

    /// <summary>An agent that declined an offer attempt of a session although the queue thought it could take it
    /// is not asked again for that session until it publishes a newer snapshot (no offer ping-pong).</summary>
    private readonly Dictionary<string, (string AgentId, long Version)> _declined = new(StringComparer.Ordinal);
    private Alarm? _alarm;
    private long _sequence;
    private DateTimeOffset? _retryAt;
    private DateTimeOffset? _nextPositionUpdate;
    private DateTimeOffset? _nextReconcile;
    private bool _reconciling;

    /// <summary>Sessions the last comparison with the records found waiting here but not held (null: none made yet).</summary>
    private HashSet<string>? _unheldLastTime;

    /// <summary>While the waiting list is being rebuilt after activation nothing is matched, so a ready agent
    /// gets the best session of the whole list, not the first one that came back.</summary>
    private bool _recovering;
    private DateTimeOffset? _lastOfferAt;

    /// <summary>Smoothed seconds between two sessions leaving this queue for an agent (for estimated waits).</summary>
    private double? _secondsPerOffer;

    /// <summary>The agents that serve this queue, as this activation knows them. The record's copy
    /// (<see cref="QueueRecord.Agents"/>) is written beside the turns (<see cref="StartWriter"/>).</summary>
    private HashSet<string> _members = new(StringComparer.Ordinal);

    /// <summary>The members in the record as last read or written.</summary>
    private IReadOnlySet<string> _stored = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Changes to the record made (membership or configuration), and how many of them the stored record holds.</summary>
    private long _changes;
    private long _written;

    /// <summary>The write in flight, if any: one at a time, each writing the record as it is when it starts.</summary>
    private Task? _writer;

    /// <summary>A write failed: what is stored is unknown, so this activation writes nothing more and goes.</summary>
    private Exception? _writeFailure;

    /// <summary>The next write does not start before this (a <see cref="Stopwatch"/> timestamp).</summary>
    private long _nextWriteNotBefore;

    /// <summary>After each write the queue waits this many times as long as the write took before it starts the next
    /// one (at most <see cref="MaxWritePause"/>): while agents keep joining, writing the member list takes at most about
    /// a fifth of the time, and the joins in between share one write. (Without a pause, joins arriving one at a time
    /// would each find the last write finished and start their own: a write of the whole list per join.)</summary>
    private const int WritePauseFactor = 4;

    private static readonly TimeSpan MaxWritePause = TimeSpan.FromSeconds(1);

    private QueueRecord S => state.State;

    private QueuePolicy Policy => S.Policy;

    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = this.AsReference<IQueueGrain>();
        _alarm = new Alarm(clock, tracker, self.WakeAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"wake {Id}");

        // The roster of agents is persisted; their availability is not. Ask each agent to publish it again
        // (without waiting here: an agent may itself be waiting on this activation). A join that was acknowledged but
        // not written before a crash is not here: that agent publishes again by itself (see UpdateAgentAsync).
        _members = new HashSet<string>(S.Agents, StringComparer.Ordinal);
        _stored = S.Agents;
        foreach (var agentId in S.Agents)
        {
            var agent = GrainFactory.GetGrain<IAgentGrain>(agentId);
            tracker.Track(agent.RepublishAsync, ex => logger.BackgroundWorkFailed(ex, Id));
        }

        // The waiting list is rebuilt from the durable session records: each queued session comes back with its
        // original arrival and place (a queue activated after a restart or on another silo loses no one).
        if (S.Exists)
        {
            _recovering = true;
            tracker.Track(RecoverWaitingAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"recover {Id}");
        }

        return Task.CompletedTask;
    }

    private async Task RecoverWaitingAsync()
    {
        try
        {
            var queued = await index.QueuedSessionsAsync(Id);
            foreach (var sessionId in queued)
            {
                if (!Holds(sessionId))
                {
                    await GrainFactory.GetGrain<ISessionGrain>(sessionId).ResumeAsync();
                }
            }

            if (queued.Count > 0)
            {
                RecoveryLog.QueueRecovered(logger, Id, queued.Count);
            }
        }
        finally
        {
            _recovering = false;
            foreach (var agent in _roster.Free.ToList())
            {
                MatchAgent(agent);
            }

            ArmAlarm();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Membership changes not written yet are written now (unless a write failed: then nothing here is trusted).
        if (_writeFailure is null && (_writer is not null || _written < _changes))
        {
            try
            {
                await StoredAsync(_changes).WaitAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                logger.BackgroundWorkFailed(ex, Id);
            }
        }
    }

    public async Task<QueueConfig> PutAsync(QueueConfig config)
    {
        // The record is changed only while no write is in flight, so a write never sees it half-changed.
        await WriterIdleAsync();
        S.Exists = true;
        S.Name = config.Name;
        S.Policy = config.Policy;
        await StoredAsync(++_changes);
        ArmAlarm();
        return Config();
    }

    public Task<QueueConfig?> GetAsync()
    {
        ForgetIfUnknown();
        return Task.FromResult(S.Exists ? Config() : null);
    }

    public Task<QueueLive> GetLiveAsync()
    {
        // Counted when asked (a wallboard asks about once a second), not kept up to date per session.
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

        var bySegment = new Dictionary<Segment, SegmentWaiting>();
        foreach (var session in _waiting.All)
        {
            foreach (var segment in session.Segments)
            {
                var oldest = bySegment.TryGetValue(segment, out var seen) && seen.OldestArrival < session.Arrival ? seen.OldestArrival : session.Arrival;
                bySegment[segment] = new SegmentWaiting((seen?.Waiting ?? 0) + 1, oldest);
            }
        }

        return Task.FromResult(new QueueLive(Id, _waiting.Count, _offering.Count, _waiting.Oldest?.Arrival, _roster.Count, _roster.FreeCount)
        {
            ServiceLevelSeconds = Policy.ServiceLevelSeconds,
            AgentsIdle = idle,
            AgentsBusy = busy,
            AgentsNotReady = notReady,
            BySegment = bySegment,
        });
    }

    public Task<EnqueueResult> EnqueueAsync(EnqueueRequest request)
    {
        if (!S.Exists)
        {
            ForgetIfUnknown();
            return Task.FromResult(new EnqueueResult(EnqueueStatus.QueueNotFound, [], HeadStart.None));
        }

        var segments = PriorityPolicy.DeriveSegments(request.DeclaredSegments, request.CustomerAge, Policy.ElderlyAge);
        var headStart = PriorityPolicy.HeadStartFor(segments, Policy.HeadStarts);
        if (!request.IsReturn && !_waiting.Contains(request.SessionId) && _waiting.Count + _offering.Count >= Policy.MaxWaiting)
        {
            return Task.FromResult(new EnqueueResult(EnqueueStatus.QueueFull, segments, headStart, Policy.OverflowQueueId));
        }

        var demand = new SessionDemand
        {
            SessionId = request.SessionId,
            QueueId = Id,
            Channel = request.Channel,
            Arrival = request.Arrival,
            HeadStart = headStart,
            Segments = segments,
            RequiredSkills = request.Skills,
            PreferredAgentId = request.PreferredAgentId,
            PreferredUntil = request.PreferredUntil,
            RejectedBy = request.RejectedBy.ToHashSet(StringComparer.Ordinal),
            Sequence = request.Sequence ?? ++_sequence,
        };
        _cancelled.Remove(request.SessionId);
        _waiting.Add(demand);
        MatchSession(demand);
        ArmAlarm();
        return Task.FromResult(new EnqueueResult(EnqueueStatus.Accepted, segments, headStart, Sequence: demand.Sequence, ServiceLevelSeconds: Policy.ServiceLevelSeconds));
    }

    public Task RemoveAsync(string sessionId)
    {
        _declined.Remove(sessionId);
        if (_waiting.Remove(sessionId) is null && _offering.ContainsKey(sessionId))
        {
            _cancelled.Add(sessionId);
        }

        ArmAlarm();
        return Task.CompletedTask;
    }

    public Task<bool> UpdateAgentAsync(AgentSupply agent)
    {
        // Membership is persisted so a reactivated queue knows whom to ask for their availability. A join or leave
        // is not written in this turn: it marks the record changed and one write runs beside the turns, covering
        // every change made before it starts (joins of 10,000 agents would otherwise write the whole member list
        // 10,000 times, and route nothing while each write is in flight). The answer tells the agent whether the
        // stored record holds it yet; until it does, the agent publishes again now and then (AgentGrain), which
        // also recovers a join lost in a crash before its write.
        var serves = agent.Queues.Contains(Id);
        if (!serves)
        {
            _roster.Remove(agent.AgentId);
            if (_members.Remove(agent.AgentId))
            {
                MembershipChanged();
            }

            return Task.FromResult(!_stored.Contains(agent.AgentId));
        }

        _roster.Update(agent);
        if (_members.Add(agent.AgentId))
        {
            MembershipChanged();
        }

        if (_roster.TryGet(agent.AgentId, out var latest))
        {
            MatchAgent(latest);
        }

        return Task.FromResult(_stored.Contains(agent.AgentId));
    }

    public Task<PeekResult?> PeekBestAsync(AgentSupply agent)
    {
        _roster.Update(agent);
        if (_recovering)
        {
            return Task.FromResult<PeekResult?>(null); // the queue offers the agent its best session once recovered
        }

        if (_agentsBusy.Contains(agent.AgentId))
        {
            return Task.FromResult<PeekResult?>(new PeekResult(string.Empty, null, OfferInFlight: true));
        }

        var best = BestFor(agent);
        return Task.FromResult(best is { } c ? new PeekResult(c.Session.SessionId, c.Session) : null);
    }

    public Task<ClaimedSession?> ClaimAsync(AgentSupply agent, string? sessionId)
    {
        _roster.Update(agent);
        ClaimedSession? claimed = null;
        if (_recovering || _agentsBusy.Contains(agent.AgentId))
        {
            // An offer attempt to this agent is in flight, for a session ahead of anything it could claim
            // now; when that attempt completes this queue offers the agent more if it still has room.
            return Task.FromResult(claimed);
        }

        if (sessionId is null)
        {
            if (BestFor(agent) is { } best)
            {
                _waiting.Remove(best.Session.SessionId);
                claimed = new ClaimedSession(best.Session, Policy, best.RelaxationStep);
                RecordOffer();
            }
        }
        else if (_waiting.Remove(sessionId) is { } demand)
        {
            var step = SkillRelaxation.StepAt(Policy.Relaxation, (clock.Now - demand.Arrival).TotalSeconds);
            claimed = new ClaimedSession(demand, Policy, step);
            RecordOffer();
        }

        ArmAlarm();
        return Task.FromResult(claimed);
    }

    public Task GiveBackAsync(SessionDemand session)
    {
        _waiting.Add(session);
        MatchSession(session);
        ArmAlarm();
        return Task.CompletedTask;
    }

    public Task WakeAsync()
    {
        _alarm?.Clear();
        var now = clock.Now;
        _retryAt = null;

        // Max wait: the longest-waiting sessions leave first, to the overflow queue or out.
        var cutoff = now - TimeSpan.FromSeconds(Policy.MaxWaitSeconds);
        foreach (var demand in _waiting.ArrivedAtOrBefore(cutoff).ToList())
        {
            _waiting.Remove(demand.SessionId);
            var session = GrainFactory.GetGrain<ISessionGrain>(demand.SessionId);
            var overflow = Policy.OverflowQueueId;
            tracker.Track(() => session.OverflowAsync(Id, overflow), ex => logger.BackgroundWorkFailed(ex, Id), $"overflow {demand.SessionId}");
        }

        // A relaxation step or the end of a preferred-agent window may have made a free agent eligible.
        foreach (var agent in _roster.Free.ToList())
        {
            MatchAgent(agent);
        }

        AskUnansweredAgents();

        if (_nextPositionUpdate <= now)
        {
            _nextPositionUpdate = null;
            PublishPositions(now);
        }

        if (_nextReconcile <= now)
        {
            _nextReconcile = null;
            if (!_recovering && !_reconciling)
            {
                _reconciling = true;
                tracker.Track(ReconcileAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"reconcile {Id}");
            }
        }

        ArmAlarm();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Compares the waiting list with the durable session records (see <see cref="QueueOptions.ReconcileInterval"/>).
    /// A session seen unheld once may be in transit (claimed by an agent, its offer on the way); unheld twice, an
    /// interval apart, it was lost, and it is asked to come back (<see cref="ISessionGrain.ResumeAsync"/>: a no-op
    /// unless it still waits here). The session grain arbitrates every offer, so taking back one that was in fact
    /// being offered cannot connect it twice.
    /// </summary>
    private async Task ReconcileAsync()
    {
        try
        {
            var queued = await index.QueuedSessionsAsync(Id);
            var unheld = queued.Where(id => !Holds(id)).ToHashSet(StringComparer.Ordinal);
            var lost = _unheldLastTime is { } before ? unheld.Where(before.Contains).ToList() : [];
            _unheldLastTime = unheld;
            foreach (var sessionId in lost)
            {
                if (!Holds(sessionId))
                {
                    RecoveryLog.QueueLostSession(logger, Id, sessionId);
                    await GrainFactory.GetGrain<ISessionGrain>(sessionId).ResumeAsync();
                }
            }
        }
        finally
        {
            _reconciling = false;
            ArmAlarm();
        }
    }

    /// <summary>Tells the sessions at the front of the queue their place (per channel) and an estimated wait:
    /// place × the smoothed time between offers of this queue, when that is known.</summary>
    private void PublishPositions(DateTimeOffset now)
    {
        var updates = new List<SessionUpdate>();
        foreach (var channel in Enum.GetValues<RoutingCluster.Routing.Model.Channel>())
        {
            var position = 0;
            foreach (var demand in _waiting.InServiceOrder(channel))
            {
                if (++position > options.Value.PositionUpdateLimit)
                {
                    break;
                }

                updates.Add(new SessionUpdate
                {
                    SessionId = demand.SessionId,
                    Type = SessionEventType.Position,
                    State = RoutingCluster.Routing.Model.SessionState.Queued,
                    QueueId = Id,
                    At = now,
                    Position = position,
                    EstimatedWaitSeconds = _secondsPerOffer * position,
                });
            }
        }

        if (updates.Count > 0)
        {
            tracker.Track(() => Task.WhenAll(updates.Select(u =>
                new EventStream<SessionUpdate>(ServiceProvider, RoutingStreams.SessionNamespace, u.SessionId).PublishAsync(u))),
                ex => logger.BackgroundWorkFailed(ex, Id), $"positions {Id}");
        }
    }

    private void RecordOffer()
    {
        var now = clock.Now;
        if (_lastOfferAt is { } last)
        {
            var seconds = (now - last).TotalSeconds;
            _secondsPerOffer = _secondsPerOffer is { } smoothed ? (0.8 * smoothed) + (0.2 * seconds) : seconds;
        }

        _lastOfferAt = now;
    }

    /// <summary>Agent surplus: a session that just arrived (or came back) goes to the best free agent, if any.</summary>
    private void MatchSession(SessionDemand demand)
    {
        if (_recovering || !_waiting.Contains(demand.SessionId) || _roster.FreeCount == 0)
        {
            return;
        }

        var now = clock.Now;
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
        if (BestFor(choice.Agent) is { } ahead && ahead.Session.SessionId != demand.SessionId)
        {
            StartAttempt(ahead.Session, choice.Agent, 1, "session-surplus");
            return;
        }

        StartAttempt(demand, choice.Agent, choice.CandidateCount, "agent-surplus");
    }

    /// <summary>An agent with room: offer it the best waiting session it may take.</summary>
    private void MatchAgent(AgentSupply agent)
    {
        if (_recovering || _agentsBusy.Contains(agent.AgentId) || !agent.HasFreeCapacity || _waiting.Count == 0)
        {
            return;
        }

        if (BestFor(agent) is { } best)
        {
            StartAttempt(best.Session, agent, 1, "session-surplus");
        }
    }

    private Candidate? BestFor(AgentSupply agent) =>
        _waiting.BestFor(agent, Policy, clock.Now, d => _roster.AnyoneElseEligible(d, agent.AgentId, Policy, clock.Now),
            _declined.Count == 0 ? null : d => Declined(d.SessionId, agent));

    private bool Declined(string sessionId, AgentSupply agent) =>
        _declined.TryGetValue(sessionId, out var d) && d.AgentId == agent.AgentId && agent.Version <= d.Version;

    /// <summary>Takes the session out of the waiting list and asks the agent to reserve capacity and offer it.
    /// The attempt runs beside this grain's turns; its result is handled in a continuation on this grain.</summary>
    private void StartAttempt(SessionDemand demand, AgentSupply agent, int candidates, string decision)
    {
        _waiting.Remove(demand.SessionId);
        _offering[demand.SessionId] = agent.AgentId;
        _agentsBusy.Add(agent.AgentId);
        var request = new OfferRequest { Session = demand, Policy = Policy, CandidateCount = candidates, Decision = decision };
        var grain = GrainFactory.GetGrain<IAgentGrain>(agent.AgentId);
        tracker.Track(async () =>
        {
            OfferAttemptResult? result = null;
            try
            {
                result = await grain.TryOfferAsync(request);
            }
            catch (Exception ex)
            {
                logger.OfferAttemptFailed(ex, demand.SessionId, agent.AgentId);
            }

            OnAttemptDone(demand, agent.AgentId, result);
        }, ex => logger.BackgroundWorkFailed(ex, Id), $"offer {demand.SessionId} to {agent.AgentId} from {Id}");
    }

    private void OnAttemptDone(SessionDemand demand, string agentId, OfferAttemptResult? result)
    {
        _offering.Remove(demand.SessionId);
        _agentsBusy.Remove(agentId);
        var cancelled = _cancelled.Remove(demand.SessionId);
        if (result?.Agent is { } snapshot)
        {
            if (!snapshot.Queues.Contains(Id))
            {
                _roster.Remove(agentId);
            }
            else
            {
                _roster.Update(snapshot);
            }
        }

        if (result is null)
        {
            // The agent did not answer (its silo may be down): keep the session and try again shortly,
            // without counting on that agent until it publishes again.
            _roster.Remove(agentId);
            _unanswered.Add(agentId);
            _retryAt = clock.Now + TimeSpan.FromSeconds(1);
        }

        _declined.Remove(demand.SessionId);
        if (result?.Status == OfferAttemptStatus.AgentUnavailable && result.Agent is { } declinedBy)
        {
            _declined[demand.SessionId] = (agentId, declinedBy.Version);
        }

        if (result?.Status == OfferAttemptStatus.Offered)
        {
            RecordOffer();
        }

        if (result?.Status != OfferAttemptStatus.Offered && result?.Status != OfferAttemptStatus.SessionGone && !cancelled)
        {
            _waiting.Add(demand);
            MatchSession(demand);
        }

        if (_roster.TryGet(agentId, out var latest))
        {
            MatchAgent(latest);
        }

        ArmAlarm();
    }

    /// <summary>Asks each agent that did not answer an offer attempt to publish its availability again (it comes back
    /// through <see cref="UpdateAgentAsync"/>); one that still does not answer is asked at the next wake-up.</summary>
    private void AskUnansweredAgents()
    {
        foreach (var agentId in _unanswered.ToList())
        {
            _unanswered.Remove(agentId);
            var agent = GrainFactory.GetGrain<IAgentGrain>(agentId);
            tracker.Track(async () =>
            {
                try
                {
                    await agent.RepublishAsync();
                }
                catch (Exception ex)
                {
                    logger.BackgroundWorkFailed(ex, Id);
                    _unanswered.Add(agentId);
                    _retryAt = clock.Now + TimeSpan.FromSeconds(1);
                    ArmAlarm();
                }
            }, label: $"republish {agentId} for {Id}");
        }
    }

    private void ArmAlarm()
    {
        var now = clock.Now;
        DateTimeOffset? next = _retryAt;
        if (_waiting.Oldest is { } oldest)
        {
            next = Earliest(next, oldest.Arrival + TimeSpan.FromSeconds(Policy.MaxWaitSeconds));
            if (_roster.FreeCount > 0)
            {
                next = Earliest(next, _waiting.NextEligibilityChange(Policy, now));
            }

            var interval = options.Value.PositionUpdateInterval;
            if (interval > TimeSpan.Zero)
            {
                _nextPositionUpdate ??= now + interval;
                next = Earliest(next, _nextPositionUpdate);
            }
        }

        if (S.Exists && options.Value.ReconcileInterval > TimeSpan.Zero && index is not NoSessionIndex)
        {
            _nextReconcile ??= now + options.Value.ReconcileInterval;
            next = Earliest(next, _nextReconcile);
        }

        _alarm?.Set(next);
    }

    /// <summary>Queues stay active while they exist (their waiting list lives in memory); a lookup of an id that
    /// names no queue (and that no agent serves) must not pin an activation.</summary>
    private void ForgetIfUnknown()
    {
        if (!S.Exists && _members.Count == 0 && _writer is null)
        {
            DeactivateOnIdle();
        }
    }

    private void MembershipChanged()
    {
        _changes++;
        StartWriter();
    }

    /// <summary>Starts the writer unless one is running (it goes on while changes are not written) or a write failed.</summary>
    private void StartWriter()
    {
        if (_writer is not null || _writeFailure is not null || _written >= _changes)
        {
            return;
        }

        tracker.Track(() =>
        {
            var writing = WriteAsync();
            if (!writing.IsCompleted)
            {
                _writer = writing;
            }

            return writing;
        }, ex => logger.BackgroundWorkFailed(ex, Id), $"membership {Id}");
    }

    /// <summary>Writes the record until it holds every change made so far. Each write takes a copy of the members
    /// (turns go on changing the live set meanwhile). A failed write leaves the stored record unknown, as an awaited
    /// one would (<c>InconsistentStateException</c> in the PostgreSQL storage): the activation writes nothing more
    /// and goes, and the next one reads what is stored.</summary>
    private async Task WriteAsync()
    {
        try
        {
            while (_written < _changes)
            {
                // Real time, not the routing clock: this paces work, it decides nothing about routing.
                var pause = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _nextWriteNotBefore);
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause);
                    continue;
                }

                var covering = _changes;
                var members = new HashSet<string>(_members, StringComparer.Ordinal);
                S.Agents = members;
                var started = Stopwatch.GetTimestamp();
                await state.WriteStateAsync();
                var took = Stopwatch.GetElapsedTime(started);
                var wait = took * WritePauseFactor < MaxWritePause ? took * WritePauseFactor : MaxWritePause;
                _nextWriteNotBefore = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
                _stored = members;
                _written = covering;
            }
        }
        catch (Exception ex)
        {
            _writeFailure = ex;
            QueueLog.RecordWriteFailed(logger, ex, Id);
            DeactivateOnIdle();
        }
        finally
        {
            _writer = null;
        }
    }

    /// <summary>Completes when the stored record holds change number <paramref name="change"/>; throws when a write failed.</summary>
    private async Task StoredAsync(long change)
    {
        while (_written < change)
        {
            if (_writeFailure is { } failure)
            {
                throw new Orleans.Storage.InconsistentStateException($"Queue {Id} could not write its record; it is reset and reads it again.", failure);
            }

            StartWriter();
            if (_writer is { } writer)
            {
                await writer;
            }
        }
    }

    private async Task WriterIdleAsync()
    {
        while (_writer is { } writer)
        {
            await writer;
        }
    }

    /// <summary>Whether this queue holds the session: waiting, or in an offer attempt in flight.</summary>
    private bool Holds(string sessionId) => _waiting.Contains(sessionId) || _offering.ContainsKey(sessionId);

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    private QueueConfig Config() => new() { Id = Id, Name = S.Name, Policy = S.Policy };
}

internal static partial class QueueLog
{
    [LoggerMessage(EventId = 124, Level = LogLevel.Warning, Message = "Queue {QueueId} could not write its record (members, configuration); the activation is reset and the next one reads what is stored")]
    public static partial void RecordWriteFailed(ILogger logger, Exception exception, string queueId);
}
