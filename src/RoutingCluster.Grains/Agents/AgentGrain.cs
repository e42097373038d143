using Microsoft.Extensions.Logging;
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
using RoutingCluster.Routing.Ordering;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Grains.Agents;

/// <summary>
/// The authority on one agent's capacity. A reservation (an offer) is made only here, in one turn, so no
/// number of queues offering at once can over-fill the agent. When the agent frees up it looks for the
/// best waiting session across all its queues itself (session surplus), asking each queue, with no global
/// grain on the path. It waits on sessions and queues; neither ever waits on an agent.
/// </summary>
public sealed class AgentGrain(
    [PersistentState("agent", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<AgentRecord> state,
    RoutingClock clock,
    WorkTracker tracker,
    Microsoft.Extensions.Options.IOptions<AgentOptions> options,
    KpiCollector kpi,
    ILogger<AgentGrain> logger) : Grain, IAgentGrain
{
    /// <summary>How many sessions one free-up may pull in a row (a chat agent with several free slots).</summary>
    private const int MaxPullsPerFreeUp = 16;

    /// <summary>The relays of the silos where this agent's desktops are connected, by connection. Not persisted:
    /// desktops renew their connection periodically, and a reactivated grain learns them again.</summary>
    private readonly Dictionary<string, IAgentDesktopObserver> _desktops = new(StringComparer.Ordinal);
    private Alarm? _alarm;
    private DateTimeOffset? _graceUntil;

    /// <summary>Queues whose stored membership did not agree with this agent when it last published to them (a join
    /// acknowledged but not written yet, or lost with the queue's silo), and when to publish to them again.</summary>
    private readonly HashSet<string> _unconfirmed = new(StringComparer.Ordinal);
    private DateTimeOffset? _confirmAt;

    private EventStream<AgentUpdate>? _events;

    private AgentRecord S => state.State;

    private EventStream<AgentUpdate> Events => _events ??= new(ServiceProvider, RoutingStreams.AgentNamespace, Id);

    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = this.AsReference<IAgentGrain>();
        _alarm = new Alarm(clock, tracker, self.WakeAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"wake {Id}");

        // Whether its queues stored it as a member is not known to a new activation (the last one may have died
        // before hearing back): a signed-in agent checks with each of them shortly, unless it publishes before that.
        if (S.Exists && S.State != AgentState.LoggedOut && S.Queues.Count > 0)
        {
            _unconfirmed.UnionWith(S.Queues);
            _confirmAt = clock.Now + options.Value.MembershipCheckDelay;
        }

        // Offer expiries and wrap-ups that were pending when the grain was last active still fire.
        ArmAlarm();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The desktops are known to this activation only: their relays register them again with the next one.
        // One-way calls, so a relay on a silo that is gone does not hold up the deactivation.
        foreach (var relay in _desktops.Values.Distinct())
        {
            relay.OnAgentDeactivatingAsync(Id).Ignore();
        }

        return Task.CompletedTask;
    }

    public async Task<AgentView> PutProfileAsync(AgentProfile profile)
    {
        var now = clock.Now;
        var leaving = S.Queues.Except(profile.Queues).ToList();
        var previousQueues = S.Queues;
        if (!S.Exists)
        {
            S.Exists = true;
            S.State = AgentState.LoggedOut;
            S.StateSince = now;
            S.IdleSince = now;
            S.ActivitySince = now;
        }

        S.Name = profile.Name;
        S.Skills = new Dictionary<string, int>(profile.Skills);
        S.Queues = [.. profile.Queues.Distinct()];
        S.Capacity = new Dictionary<Channel, int>(profile.Capacity ?? ChannelRules.DefaultCapacity);
        await Changed(previousQueues);
        await PullIfFree(leaving);
        await PublishAsync(AgentEventType.Changed);
        return View();
    }

    public async Task<Outcome> SetStateAsync(AgentState to, string? reason)
    {
        if (!S.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (to == AgentState.LoggedOut && S.Sessions.Count > 0)
        {
            return Outcome.Conflict($"Agent '{Id}' holds {S.Sessions.Count} session(s) or offer(s): finish them before logging out.");
        }

        var now = clock.Now;
        if (to == AgentState.Ready && S.State != AgentState.Ready && S.Sessions.Count == 0)
        {
            S.IdleSince = now;
        }

        S.State = to;
        S.Reason = to == AgentState.NotReady ? reason ?? "unspecified" : null;
        S.StateSince = now;
        logger.AgentStateChanged(Id, to, S.Reason);
        await Changed();
        await PublishAsync(AgentEventType.Changed);
        await PullIfFree();
        return Outcome.Ok;
    }

    public Task<AgentView?> GetAsync() => Task.FromResult(S.Exists ? View() : null);

    public async Task<Outcome> AcceptAsync(string sessionId)
    {
        if (!S.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!S.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Offered)
        {
            return Outcome.Conflict($"Agent '{Id}' has no pending offer of session '{sessionId}'.");
        }

        if (OfferTerms.HasExpired(held.ExpiresAt, clock.Now))
        {
            await MissOffers([held]);
            return Outcome.Conflict($"The offer of session '{sessionId}' expired at {held.ExpiresAt:O}.");
        }

        var connected = await Session(sessionId).ConnectAsync(Id);
        if (!connected.IsOk)
        {
            // Refused while still offered to this agent: the offer expired by the session's reading of the clock,
            // taken after ours above (a busy silo, or another silo's clock). Only this agent's alarm ends an offer,
            // so dropping just the reservation would leave the session offered to nobody, forever: it is a missed
            // offer like any other, and the session goes back to its queue.
            if (await Session(sessionId).GetAsync() is { State: SessionState.Offered } session && session.AgentId == Id)
            {
                await MissOffers([held]);
                return connected;
            }

            // The session moved on (abandoned, or withdrawn): free the reservation.
            S.Sessions.Remove(sessionId);
            await Changed();
            await PullIfFree();
            return connected;
        }

        held.State = HeldState.Connected;
        held.Since = clock.Now;
        await Changed();
        await PublishAsync(AgentEventType.Changed, sessionId);
        return Outcome.Ok;
    }

    public async Task<Outcome> RejectAsync(string sessionId)
    {
        if (!S.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!S.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Offered)
        {
            return Outcome.Conflict($"Agent '{Id}' has no pending offer of session '{sessionId}'.");
        }

        S.Sessions.Remove(sessionId);
        await Changed();
        await Session(sessionId).RequeueAsync(Id, RequeueReason.Rejected);
        await PublishAsync(AgentEventType.Changed, sessionId);
        await PullIfFree();
        return Outcome.Ok;
    }

    public async Task<Outcome> EndAsync(string sessionId)
    {
        if (!S.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!S.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Connected)
        {
            return Outcome.Conflict($"Agent '{Id}' is not connected to session '{sessionId}'.");
        }

        var ended = await Session(sessionId).EndAsync(Id);
        if (!ended.IsOk)
        {
            // The session is not this agent's any more (a crash left this hold behind after the session moved on):
            // release the capacity, or the agent would stay busy with a session it can never end.
            if (await Session(sessionId).GetAsync() is not { } session
                || session.AgentId != Id
                || session.State is not (SessionState.Connected or SessionState.WrapUp))
            {
                logger.StaleHoldReleased(Id, sessionId);
                S.Sessions.Remove(sessionId);
                await Changed();
                await PublishAsync(AgentEventType.Changed, sessionId);
                await PullIfFree();
            }

            return ended;
        }

        await StartWrapUp(held);
        return Outcome.Ok;
    }

    public async Task<Outcome> WrapUpDoneAsync(string sessionId)
    {
        if (!S.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!S.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.WrapUp)
        {
            return Outcome.Conflict($"Agent '{Id}' is not in wrap-up of session '{sessionId}'.");
        }

        await FinishWrapUps([held]);
        return Outcome.Ok;
    }

    public async Task<OfferAttemptResult> TryOfferAsync(OfferRequest request)
    {
        var session = request.Session;
        var now = clock.Now;
        EndStaleWrapUp(session.SessionId);
        var supply = Supply();
        if (!S.Exists || S.Sessions.ContainsKey(session.SessionId)
            || !Eligibility.IsEligible(supply, session, request.Policy, now, out var step))
        {
            return new OfferAttemptResult(OfferAttemptStatus.AgentUnavailable, S.Exists ? supply : Gone());
        }

        var explanation = OfferExplanation.For(supply, session, request.Policy, step, request.CandidateCount, request.Kind, now);
        var status = await Offer(session, request.Policy, explanation) switch
        {
            OfferReply.Offered => OfferAttemptStatus.Offered,
            OfferReply.TooLate => OfferAttemptStatus.OfferTooLate,
            _ => OfferAttemptStatus.SessionGone,
        };
        return new OfferAttemptResult(status, Supply());
    }

    public async Task OfferWithdrawnAsync(string sessionId)
    {
        if (S.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.Offered)
        {
            S.Sessions.Remove(sessionId);
            await Changed();
            await PublishAsync(AgentEventType.OfferWithdrawn, sessionId);
            await PullIfFree();
        }
    }

    public async Task SessionTransferredAsync(string sessionId)
    {
        if (S.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.Connected)
        {
            await StartWrapUp(held);

            // A queue that tried to offer the session back to this agent while it was still connected here was
            // declined; the new snapshot tells it to try again (the wrap-up then ends early, EndStaleWrapUp).
            await Publish();
        }
    }

    public Task RepublishAsync() => S.Exists ? Publish() : Task.CompletedTask;

    public Task<AgentView?> DesktopConnectedAsync(string connectionId, IAgentDesktopObserver relay)
    {
        if (!S.Exists)
        {
            DeactivateOnIdle(); // a sign-in with an unknown id must not keep an activation
            return Task.FromResult<AgentView?>(null);
        }

        var known = _desktops.ContainsKey(connectionId);
        _desktops[connectionId] = relay;
        _graceUntil = null;
        DelayDeactivation(options.Value.DesktopKeepAlive);
        ArmAlarm();
        var view = View();
        if (!known)
        {
            // A desktop this activation did not know: signing in, or registered again by its relay after the grain
            // moved to this silo. It is told the agent as it is now, with any offer made here before it was known.
            var update = new AgentUpdate { AgentId = Id, Type = AgentEventType.Changed, Agent = view, At = clock.Now };
            tracker.Track(() => relay.OnAgentUpdateAsync(update), ex =>
            {
                logger.BackgroundWorkFailed(ex, Id);
                _desktops.Remove(connectionId);
            });
        }

        return Task.FromResult<AgentView?>(view);
    }

    public Task DesktopDisconnectedAsync(string connectionId)
    {
        if (_desktops.Remove(connectionId) && _desktops.Count == 0)
        {
            _graceUntil = clock.Now + options.Value.DesktopGracePeriod;
            ArmAlarm();
        }

        return Task.CompletedTask;
    }

    public async Task WakeAsync()
    {
        _alarm?.Clear();
        var now = clock.Now;
        if (_graceUntil <= now && _desktops.Count == 0)
        {
            _graceUntil = null;
            if (S.State == AgentState.Ready)
            {
                // Nobody is at the desktop any more: stop offering new sessions to this agent.
                S.State = AgentState.NotReady;
                S.Reason = "disconnected";
                S.StateSince = now;
                logger.AgentStateChanged(Id, S.State, S.Reason);
                await Changed();
                await Publish();
                await PublishAsync(AgentEventType.Changed);
            }
        }

        var missed = S.Sessions.Values.Where(h => h.State == HeldState.Offered && OfferTerms.HasExpired(h.ExpiresAt, now)).ToList();
        if (missed.Count > 0)
        {
            await MissOffers(missed);
        }

        var done = S.Sessions.Values.Where(h => h.State == HeldState.WrapUp && h.WrapUpUntil <= now).ToList();
        if (done.Count > 0)
        {
            await FinishWrapUps(done);
        }

        if (_confirmAt <= now)
        {
            _confirmAt = null;
            if (S.Exists && _unconfirmed.Count > 0)
            {
                await Publish(only: [.. _unconfirmed]);
            }
        }

        ArmAlarm();
    }

    /// <summary>
    /// A session this agent transferred away can come back to it while the agent is still in wrap-up of its
    /// first part: that wrap-up ends now (the session itself has moved on and is not completed by it).
    /// </summary>
    private void EndStaleWrapUp(string sessionId)
    {
        if (S.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.WrapUp)
        {
            S.Sessions.Remove(sessionId);
            S.IdleSince = clock.Now;
        }
    }

    /// <summary>
    /// Offers a session this agent took out of its queue. The queue no longer holds it, so when the session may still
    /// be waiting (the offer reached it too late, or the call failed and it cannot be known whether it arrived) it is
    /// given back to its queue. The session decides: if it did take the offer, a later offer attempt from the queue
    /// is answered "not waiting" and the queue lets it go again.
    /// </summary>
    private async Task<OfferReply> OfferClaimed(ClaimedSession claimed, Explanation explanation)
    {
        OfferReply reply;
        try
        {
            reply = await Offer(claimed.Session, claimed.Policy, explanation);
        }
        catch (Exception ex)
        {
            logger.ClaimedOfferFailed(ex, claimed.Session.SessionId, Id);
            await Queue(claimed.Session.QueueId).GiveBackAsync(claimed.Session);
            throw;
        }

        if (reply == OfferReply.TooLate)
        {
            await Queue(claimed.Session.QueueId).GiveBackAsync(claimed.Session);
        }

        return reply;
    }

    /// <summary>Reserves capacity for the session and offers it. The reservation is written before the
    /// session hears of it, so after a crash the agent cannot be offered more than its capacity.</summary>
    private async Task<OfferReply> Offer(SessionDemand session, QueuePolicy policy, Explanation explanation)
    {
        var now = clock.Now;
        var held = new HeldSession
        {
            SessionId = session.SessionId,
            Channel = session.Channel,
            QueueId = session.QueueId,
            State = HeldState.Offered,
            Since = now,
            OfferedAt = now,
            ExpiresAt = OfferTerms.ExpiresAt(now, policy),
            WrapUpSeconds = policy.WrapUpSeconds,
            Segments = [.. session.Segments],
            QueuedAt = session.Arrival,
        };
        S.Sessions[session.SessionId] = held;
        await Changed();
        var reply = await Session(session.SessionId).OfferAsync(new OfferCommand(Id, held.ExpiresAt, explanation));
        if (reply == OfferReply.Offered)
        {
            ArmAlarm();
            await PublishAsync(AgentEventType.Offer, session.SessionId, new OfferNotice
            {
                SessionId = session.SessionId,
                Channel = session.Channel,
                QueueId = session.QueueId,
                Segments = session.Segments,
                WaitedSeconds = explanation.WaitedSeconds,
                OfferedAt = held.OfferedAt,
                ExpiresAt = held.ExpiresAt,
            });
            return OfferReply.Offered;
        }

        S.Sessions.Remove(session.SessionId);
        await Changed();
        return reply;
    }

    private async Task MissOffers(List<HeldSession> missed)
    {
        // An accept whose session write landed but whose agent write was lost in a crash: the session is
        // connected to this agent, so the agent holds it as connected rather than dropping it.
        foreach (var held in missed.ToList())
        {
            var view = await Session(held.SessionId).GetAsync();
            if (view is { State: SessionState.Connected } && view.AgentId == Id)
            {
                held.State = HeldState.Connected;
                held.Since = view.AnsweredAt ?? clock.Now;
                missed.Remove(held);
            }
        }

        if (missed.Count == 0)
        {
            await Changed();
            return;
        }

        foreach (var held in missed)
        {
            S.Sessions.Remove(held.SessionId);
            logger.OfferMissed(Id, held.SessionId);
        }

        S.State = AgentState.NotReady;
        S.Reason = OfferTerms.MissedOfferReason;
        S.StateSince = clock.Now;
        await Changed();
        foreach (var held in missed)
        {
            await Session(held.SessionId).RequeueAsync(Id, RequeueReason.Missed);
            await PublishAsync(AgentEventType.OfferExpired, held.SessionId);
        }

        await Publish();
    }

    private async Task StartWrapUp(HeldSession held)
    {
        var now = clock.Now;
        held.State = HeldState.WrapUp;
        held.Since = now;
        held.WrapUpUntil = now + TimeSpan.FromSeconds(held.WrapUpSeconds);
        if (held.WrapUpSeconds <= 0)
        {
            await FinishWrapUps([held]);
            return;
        }

        await Changed();
        ArmAlarm();
        await PublishAsync(AgentEventType.Changed, held.SessionId);
    }

    private async Task FinishWrapUps(List<HeldSession> done)
    {
        // The sessions complete first, then the agent lets them go: a crash in between leaves the wrap-up with
        // the agent, whose alarm completes it again on activation (completing twice is a no-op), rather than a
        // session stuck in wrap-up that nobody holds.
        foreach (var held in done)
        {
            await Session(held.SessionId).CompleteAsync(Id);
        }

        foreach (var held in done)
        {
            S.Sessions.Remove(held.SessionId);
        }

        S.IdleSince = clock.Now;
        await Changed();

        ArmAlarm();
        await PublishAsync(AgentEventType.Changed, done[0].SessionId);
        await PullIfFree();
    }

    /// <summary>
    /// Session surplus: while the agent has room, take the highest-scoring waiting session across all the
    /// queues it serves. Each queue names its best candidate for this agent; the agent claims the best one.
    /// </summary>
    private async Task PullIfFree(IReadOnlyCollection<string>? leaving = null)
    {
        for (var pulls = 0; pulls < MaxPullsPerFreeUp; pulls++)
        {
            var supply = Supply();
            if (!supply.HasFreeCapacity || S.Queues.Count == 0)
            {
                break;
            }

            ClaimedSession? claimed;
            if (S.Queues.Count == 1)
            {
                claimed = await Queue(S.Queues[0]).ClaimAsync(supply, null);
            }
            else
            {
                var peeks = await Task.WhenAll(S.Queues.Select(q => Queue(q).PeekBestAsync(supply)));
                var pick = CrossQueueChoice.Choose(peeks.Select(p => (p?.OfferInFlight == true, p?.Session)));
                if (pick.Session is not { } best)
                {
                    break; // nothing waits for this agent, or a queue's offer is on its way to it (it comes first)
                }

                claimed = await Queue(best.QueueId).ClaimAsync(supply, best.SessionId);
                if (claimed is null)
                {
                    continue; // taken by someone else meanwhile: look again
                }
            }

            if (claimed is null)
            {
                break;
            }

            EndStaleWrapUp(claimed.Session.SessionId);
            var explanation = OfferExplanation.For(supply, claimed.Session, claimed.Policy, claimed.RelaxationStep, 1, MatchKind.SessionSurplus, clock.Now);
            if (await OfferClaimed(claimed, explanation) != OfferReply.Offered)
            {
                break; // not offered: the next pull would meet the same session or the same slow link
            }
        }

        await Publish(leaving);
    }

    /// <summary>Tells every queue served (and any just left), or <paramref name="only"/> these, the agent's current
    /// availability, and notes which of them have not stored their membership of it yet.</summary>
    private async Task Publish(IReadOnlyCollection<string>? leaving = null, IReadOnlyList<string>? only = null)
    {
        var supply = Supply();
        IReadOnlyList<string> targets = only ?? (leaving is null or { Count: 0 } ? S.Queues : [.. S.Queues, .. leaving]);
        bool[] stored;
        try
        {
            stored = await Task.WhenAll(targets.Select(q => Queue(q).UpdateAgentAsync(supply)));
        }
        catch
        {
            // Some queue did not hear it (its silo may be gone): check with all of them again later.
            NoteMembership(targets, null);
            throw;
        }

        NoteMembership(targets, stored);
    }

    /// <summary>A queue that answered <c>false</c> (or did not answer) is published to again after
    /// <see cref="AgentOptions.MembershipCheckDelay"/>, until its stored membership agrees: a join that a queue
    /// acknowledged and then lost in a crash before writing it is made again, even by an agent that stays idle.</summary>
    private void NoteMembership(IReadOnlyList<string> queues, bool[]? stored)
    {
        for (var i = 0; i < queues.Count; i++)
        {
            if (stored?[i] == true)
            {
                _unconfirmed.Remove(queues[i]);
            }
            else
            {
                _unconfirmed.Add(queues[i]);
            }
        }

        if (_unconfirmed.Count == 0)
        {
            _confirmAt = null;
        }
        else
        {
            _confirmAt ??= clock.Now + options.Value.MembershipCheckDelay;
        }

        ArmAlarm();
    }

    /// <summary>Every change of the agent is written before it is acknowledged: capacity, offers and held
    /// sessions must survive a crash, or the agent could be offered more than it can take.</summary>
    /// <remarks>The activity (idle, ringing, busy, ...) changes with the same write, and its time is counted once the
    /// write is done. <paramref name="previousQueues"/>: the queues served before a profile change, whose figures get
    /// the agent's time until now.</remarks>
    private async Task Changed(IReadOnlyList<string>? previousQueues = null)
    {
        S.Version++;
        var now = clock.Now;
        var activity = ActivityNow();
        AgentActivityChange? change = null;
        if (activity != S.Activity || (previousQueues is not null && !previousQueues.SequenceEqual(S.Queues)))
        {
            change = new AgentActivityChange(Id, S.Activity, S.ActivitySince, previousQueues ?? S.Queues, activity, now, S.Queues);
            S.Activity = activity;
            S.ActivitySince = now;
        }

        await state.WriteStateAsync();
        if (change is not null)
        {
            kpi.Record(change);
        }
    }

    /// <summary>Work held outranks the chosen state: talking to one customer and wrapping up another is busy.</summary>
    private AgentActivity ActivityNow()
    {
        if (S.Sessions.Count > 0)
        {
            var held = S.Sessions.Values;
            return held.Any(h => h.State == HeldState.Connected) ? AgentActivity.Busy
                : held.Any(h => h.State == HeldState.WrapUp) ? AgentActivity.WrapUp
                : AgentActivity.Ringing;
        }

        return S.State switch
        {
            AgentState.Ready => AgentActivity.Idle,
            AgentState.NotReady => AgentActivity.NotReady,
            _ => AgentActivity.LoggedOut,
        };
    }

    private void ArmAlarm()
    {
        var next = _graceUntil;
        if (_confirmAt is { } confirm && (next is null || confirm < next))
        {
            next = confirm;
        }

        foreach (var held in S.Sessions.Values)
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

        _alarm?.Set(next);
    }

    /// <summary>Tells the agent's desktop (wherever it is connected) what just happened.</summary>
    private Task PublishAsync(AgentEventType type, string? sessionId = null, OfferNotice? offer = null)
    {
        var update = new AgentUpdate { AgentId = Id, Type = type, Agent = View(), Offer = offer, SessionId = sessionId, At = clock.Now };
        foreach (var (connection, relay) in _desktops)
        {
            // Pushed beside this turn: a relay on a silo that died must not hold up the agent.
            tracker.Track(() => relay.OnAgentUpdateAsync(update), ex =>
            {
                logger.BackgroundWorkFailed(ex, Id);
                _desktops.Remove(connection);
            });
        }

        return Events.PublishAsync(update);
    }

    private AgentSupply Supply() => new()
    {
        AgentId = Id,
        State = S.State,
        Skills = S.Skills,
        Queues = S.Queues,
        Capacity = S.Capacity,
        Active = S.Sessions.Values.GroupBy(h => h.Channel).ToDictionary(g => g.Key, g => g.Count()),
        IdleSince = S.IdleSince,
        Version = S.Version,
    };

    /// <summary>An agent that does not exist serves no queue: a queue that hears this forgets it.</summary>
    private AgentSupply Gone() => new() { AgentId = Id, Queues = [] };

    private ISessionGrain Session(string id) => GrainFactory.GetGrain<ISessionGrain>(id);

    private IQueueGrain Queue(string id) => GrainFactory.GetGrain<IQueueGrain>(id);

    private AgentView View() => new()
    {
        Id = Id,
        Name = S.Name,
        State = S.State,
        Reason = S.Reason,
        StateSince = S.StateSince,
        Skills = S.Skills,
        Queues = S.Queues,
        Capacity = S.Capacity,
        Sessions = [.. S.Sessions.Values.Where(h => h.State != HeldState.Offered)
            .Select(h => new AgentSessionView(h.SessionId, h.Channel, h.State, h.QueueId, h.Since, h.WrapUpUntil))],
        Offers = [.. S.Sessions.Values.Where(h => h.State == HeldState.Offered)
            .Select(h => new AgentOfferView(h.SessionId, h.ExpiresAt, h.Channel, h.QueueId, h.OfferedAt) { Segments = h.Segments, QueuedAt = h.QueuedAt })],
        Version = S.Version,
    };
}
