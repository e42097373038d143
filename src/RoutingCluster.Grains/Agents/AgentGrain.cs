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
using RoutingCluster.Routing.Ordering;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Grains.Agents;

/// <summary>
/// The authority on one agent's capacity. A reservation (an offer) is made only here, in one turn, so no
/// number of queues offering at once can over-fill the agent. When the agent frees up it looks for the
/// best waiting session across all its queues itself (session surplus), asking each queue, with no global
/// grain on the path. It waits on sessions and queues; neither ever waits on an agent.
/// </summary>
/// <remarks>
/// It activates on the silo of its first caller: when the agent is not active, that is usually its desktop signing in
/// (the hub of the silo the desktop is connected to), so the desktop's actions and the grain's pushes stay in that
/// silo; an agent registered or changed over HTTP first stays where that request arrived. It does not move when a
/// desktop connects through another silo later. An agent whose silo was lost activates again on the silo of the
/// next call to it (its desktops' relays register them again at once, see <see cref="AgentDesktops"/>).
/// </remarks>
[PreferLocalPlacement]
public sealed class AgentGrain(
    [PersistentState("agent", RoutingGrainsServiceCollectionExtensions.StorageName)] IPersistentState<AgentRecord> state,
    RoutingClock clock,
    RoutingGrains grains,
    WorkTracker tracker,
    Microsoft.Extensions.Options.IOptions<AgentOptions> options,
    KpiCollector kpi,
    ILogger<AgentGrain> logger) : Grain, IAgentGrain
{
    /// <summary>How many sessions one free-up may pull in a row (a chat agent with several free slots).</summary>
    private const int MaxPullsPerFreeUp = 16;

    private Alarm? _alarm;
    private AgentDesktops _desktops = null!;
    private MembershipCheck _membership = null!;

    private AgentRecord Record => state.State;

    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = this.AsReference<IAgentGrain>();
        _alarm = new Alarm(clock, tracker, self.WakeAsync, ex => logger.BackgroundWorkFailed(ex, Id), $"wake {Id}");
        _desktops = new AgentDesktops(Id);
        _membership = new MembershipCheck(options.Value.MembershipCheckDelay);

        // Whether its queues stored it as a member is not known to a new activation (the last one may have died
        // before hearing back): a signed-in agent checks with each of them shortly, unless it tells them before that.
        if (Record.Exists && Record.State != AgentState.LoggedOut)
        {
            _membership.CheckAll(Record.Queues, clock.Now);
        }

        // Offer expiries and wrap-ups that were pending when the grain was last active still fire.
        ArmAlarm();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The desktops are known to this activation only: their relays register them again with the next one.
        _desktops.Deactivating();
        return Task.CompletedTask;
    }

    public async Task<AgentView> PutProfileAsync(AgentProfile profile)
    {
        var now = clock.Now;
        var leaving = Record.Queues.Except(profile.Queues).ToList();
        var previousQueues = Record.Queues;
        if (!Record.Exists)
        {
            Record.Exists = true;
            Record.State = AgentState.LoggedOut;
            Record.StateSince = now;
            Record.IdleSince = now;
            Record.ActivitySince = now;
        }

        Record.Name = profile.Name;
        Record.Skills = new Dictionary<string, int>(profile.Skills);
        Record.Queues = [.. profile.Queues.Distinct()];
        Record.Capacity = new Dictionary<Channel, int>(profile.Capacity ?? ChannelRules.DefaultCapacity);
        await SaveAsync(previousQueues);
        await PullIfFree(leaving);
        await NotifyDesktopsAsync(AgentEventType.Changed);
        return View();
    }

    public Task<Answer<AgentView>> SetStateAsync(AgentState to, string? reason) => ChangeStateAsync(to, reason, forcedBy: null);

    public Task<Answer<AgentView>> ForceStateAsync(AgentState to, string reason, string supervisor) =>
        to == AgentState.Ready
            ? Task.FromResult<Answer<AgentView>>(Outcome.Conflict($"Only agent '{Id}' can make itself ready."))
            : ChangeStateAsync(to, reason, supervisor);

    public async Task<AgentView?> MoveToQueuesAsync(IReadOnlyList<string> queues)
    {
        if (!Record.Exists)
        {
            return null;
        }

        // The profile as it is, with other queues: what the agent holds is untouched (it stays in Record.Sessions
        // and ends as usual), the queues it leaves forget it, the queues it joins may offer it their best session.
        return await PutProfileAsync(new AgentProfile { Name = Record.Name, Skills = Record.Skills, Queues = queues, Capacity = Record.Capacity });
    }

    private async Task<Answer<AgentView>> ChangeStateAsync(AgentState to, string? reason, string? forcedBy)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (to == AgentState.LoggedOut && Record.Sessions.Count > 0)
        {
            return Outcome.Conflict($"Agent '{Id}' holds {Record.Sessions.Count} session(s) or offer(s): finish them before logging out.");
        }

        var now = clock.Now;
        if (to == AgentState.Ready && Record.State != AgentState.Ready && Record.Sessions.Count == 0)
        {
            Record.IdleSince = now;
        }

        Record.State = to;
        Record.Reason = to == AgentState.NotReady ? reason ?? "unspecified" : null;
        Record.StateSince = now;
        Record.ForcedBy = forcedBy;
        logger.AgentStateChanged(Id, to, Record.Reason);
        await SaveAsync();
        await NotifyDesktopsAsync(AgentEventType.Changed);
        await PullIfFree();
        return Done();
    }

    public Task<AgentView?> GetAsync() => Task.FromResult(Record.Exists ? View() : null);

    public async Task<Answer<AgentView>> AcceptAsync(string sessionId)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!Record.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Offered)
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
            Record.Sessions.Remove(sessionId);
            await SaveAsync();
            await PullIfFree();
            return connected;
        }

        held.State = HeldState.Connected;
        held.Since = clock.Now;
        await SaveAsync();
        await NotifyDesktopsAsync(AgentEventType.Changed, sessionId);
        return Done();
    }

    public async Task<Answer<AgentView>> RejectAsync(string sessionId)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!Record.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Offered)
        {
            return Outcome.Conflict($"Agent '{Id}' has no pending offer of session '{sessionId}'.");
        }

        Record.Sessions.Remove(sessionId);
        await SaveAsync();
        await Session(sessionId).RequeueAsync(Id, RequeueReason.Rejected);
        await NotifyDesktopsAsync(AgentEventType.Changed, sessionId);
        await PullIfFree();
        return Done();
    }

    public async Task<Answer<AgentView>> EndAsync(string sessionId)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!Record.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.Connected)
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
                Record.Sessions.Remove(sessionId);
                await SaveAsync();
                await NotifyDesktopsAsync(AgentEventType.Changed, sessionId);
                await PullIfFree();
            }

            return ended;
        }

        await StartWrapUp(held);
        return Done();
    }

    public async Task<Answer<AgentView>> WrapUpDoneAsync(string sessionId)
    {
        if (!Record.Exists)
        {
            return Outcome.NotFound($"Agent '{Id}' does not exist.");
        }

        if (!Record.Sessions.TryGetValue(sessionId, out var held) || held.State != HeldState.WrapUp)
        {
            return Outcome.Conflict($"Agent '{Id}' is not in wrap-up of session '{sessionId}'.");
        }

        await FinishWrapUps([held]);
        return Done();
    }

    public async Task<OfferAttemptResult> TryOfferAsync(OfferRequest request)
    {
        var session = request.Session;
        var now = clock.Now;
        EndStaleWrapUp(session.SessionId);
        var supply = Supply();
        if (!Record.Exists || Record.Sessions.ContainsKey(session.SessionId)
            || !Eligibility.IsEligible(supply, session, request.Policy, now, out var step))
        {
            return new OfferAttemptResult(OfferAttemptStatus.AgentUnavailable, Record.Exists ? supply : Gone());
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
        if (Record.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.Offered)
        {
            Record.Sessions.Remove(sessionId);
            await SaveAsync();
            await NotifyDesktopsAsync(AgentEventType.OfferWithdrawn, sessionId);
            await PullIfFree();
        }
    }

    public async Task SessionTransferredAsync(string sessionId)
    {
        if (Record.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.Connected)
        {
            await StartWrapUp(held);

            // A queue that tried to offer the session back to this agent while it was still connected here was
            // declined; the new snapshot tells it to try again (the wrap-up then ends early, EndStaleWrapUp).
            await TellQueuesAsync();
        }
    }

    public Task RepublishAsync() => Record.Exists ? TellQueuesAsync() : Task.CompletedTask;

    public Task<AgentView?> DesktopConnectedAsync(string connectionId, IAgentDesktopObserver relay)
    {
        if (!Record.Exists)
        {
            DeactivateOnIdle(); // a sign-in with an unknown id must not keep an activation
            return Task.FromResult<AgentView?>(null);
        }

        var isNew = _desktops.Connect(connectionId, relay);
        DelayDeactivation(options.Value.DesktopKeepAlive);
        ArmAlarm();
        var view = View();
        if (isNew)
        {
            // A desktop this activation did not know: signing in, or registered again by its relay after the grain
            // moved to this silo. It is told the agent as it is now, with any offer made here before it was known.
            _desktops.Push(connectionId, new AgentUpdate { AgentId = Id, Type = AgentEventType.Changed, Agent = view, At = clock.Now });
        }

        return Task.FromResult<AgentView?>(view);
    }

    public Task DesktopDisconnectedAsync(string connectionId)
    {
        _desktops.Disconnect(connectionId, clock.Now + options.Value.DesktopGracePeriod);
        ArmAlarm();
        return Task.CompletedTask;
    }

    public async Task WakeAsync()
    {
        _alarm?.Clear();
        var now = clock.Now;
        if (_desktops.GraceEnded(now))
        {
            if (Record.State == AgentState.Ready)
            {
                // Nobody is at the desktop any more: stop offering new sessions to this agent.
                Record.State = AgentState.NotReady;
                Record.Reason = "disconnected";
                Record.StateSince = now;
                Record.ForcedBy = null;
                logger.AgentStateChanged(Id, Record.State, Record.Reason);
                await SaveAsync();
                await TellQueuesAsync();
                await NotifyDesktopsAsync(AgentEventType.Changed);
            }
        }

        var missed = Record.Sessions.Values.Where(h => h.State == HeldState.Offered && OfferTerms.HasExpired(h.ExpiresAt, now)).ToList();
        if (missed.Count > 0)
        {
            await MissOffers(missed);
        }

        var done = Record.Sessions.Values.Where(h => h.State == HeldState.WrapUp && h.WrapUpUntil <= now).ToList();
        if (done.Count > 0)
        {
            await FinishWrapUps(done);
        }

        if (_membership.TakeDue(now) is { Count: > 0 } unconfirmed && Record.Exists)
        {
            await TellQueuesAsync(only: unconfirmed);
        }

        ArmAlarm();
    }

    /// <summary>
    /// A session this agent transferred away can come back to it while the agent is still in wrap-up of its
    /// first part: that wrap-up ends now (the session itself has moved on and is not completed by it).
    /// </summary>
    private void EndStaleWrapUp(string sessionId)
    {
        if (Record.Sessions.TryGetValue(sessionId, out var held) && held.State == HeldState.WrapUp)
        {
            Record.Sessions.Remove(sessionId);
            Record.IdleSince = clock.Now;
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
            Callback = session.Callback,
        };
        Record.Sessions[session.SessionId] = held;
        await SaveAsync();
        var reply = await Session(session.SessionId).OfferAsync(new OfferCommand(Id, held.ExpiresAt, explanation) { Callback = session.Callback });
        if (reply == OfferReply.Offered)
        {
            ArmAlarm();
            await NotifyDesktopsAsync(AgentEventType.Offer, session.SessionId, new OfferNotice
            {
                SessionId = session.SessionId,
                Channel = session.Channel,
                QueueId = session.QueueId,
                Segments = session.Segments,
                WaitedSeconds = explanation.WaitedSeconds,
                OfferedAt = held.OfferedAt,
                ExpiresAt = held.ExpiresAt,
                Kind = session.Callback ? OfferKind.Callback : OfferKind.Inbound,
            });
            return OfferReply.Offered;
        }

        Record.Sessions.Remove(session.SessionId);
        await SaveAsync();
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
            await SaveAsync();
            return;
        }

        // A miss counts against the agent only when a desktop had the offer in time (or it has no desktop): an offer
        // that reached the desktops late, or never, under load was the cluster's miss, not the agent's.
        var heldAgainst = false;
        foreach (var held in missed)
        {
            Record.Sessions.Remove(held.SessionId);
            if (await _desktops.HadFairChanceAsync(held.SessionId, held.OfferedAt, held.ExpiresAt, options.Value.MinAnswerWindow, options.Value.OfferShownTimeout))
            {
                heldAgainst = true;
                logger.OfferMissed(Id, held.SessionId);
            }
            else
            {
                logger.OfferNotShownInTime(Id, held.SessionId);
            }
        }

        if (heldAgainst)
        {
            Record.State = AgentState.NotReady;
            Record.Reason = OfferTerms.MissedOfferReason;
            Record.StateSince = clock.Now;
            Record.ForcedBy = null;
        }

        await SaveAsync();
        foreach (var held in missed)
        {
            await Session(held.SessionId).RequeueAsync(Id, RequeueReason.Missed);
            await NotifyDesktopsAsync(AgentEventType.OfferExpired, held.SessionId);
        }

        await TellQueuesAsync();
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

        await SaveAsync();
        ArmAlarm();
        await NotifyDesktopsAsync(AgentEventType.Changed, held.SessionId);
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
            Record.Sessions.Remove(held.SessionId);
        }

        Record.IdleSince = clock.Now;
        await SaveAsync();

        ArmAlarm();
        await NotifyDesktopsAsync(AgentEventType.Changed, done[0].SessionId);
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
            if (!supply.HasFreeCapacity || Record.Queues.Count == 0)
            {
                break;
            }

            ClaimedSession? claimed;
            if (Record.Queues.Count == 1)
            {
                claimed = await Queue(Record.Queues[0]).ClaimAsync(supply, null);
            }
            else
            {
                var peeks = await Task.WhenAll(Record.Queues.Select(q => Queue(q).PeekBestAsync(supply)));
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

        await TellQueuesAsync(leaving);
    }

    /// <summary>Tells every queue served (and any just left), or <paramref name="only"/> these, the agent's current
    /// availability, and notes which of them have not stored their membership of it yet.</summary>
    private async Task TellQueuesAsync(IReadOnlyCollection<string>? leaving = null, IReadOnlyList<string>? only = null)
    {
        var supply = Supply();
        IReadOnlyList<string> targets = only ?? (leaving is null or { Count: 0 } ? Record.Queues : [.. Record.Queues, .. leaving]);
        bool[] stored;
        try
        {
            stored = await Task.WhenAll(targets.Select(q => Queue(q).UpdateAgentAsync(supply)));
        }
        catch
        {
            // Some queue did not hear it (its silo may be gone): check with all of them again later.
            _membership.Answered(targets, null, clock.Now);
            ArmAlarm();
            throw;
        }

        _membership.Answered(targets, stored, clock.Now);
        ArmAlarm();
    }

    /// <summary>Every change of the agent is written before it is acknowledged: capacity, offers and held
    /// sessions must survive a crash, or the agent could be offered more than it can take.</summary>
    /// <remarks>The activity (idle, ringing, busy, ...) changes with the same write, and its time is counted once the
    /// write is done. <paramref name="previousQueues"/>: the queues served before a profile change, whose figures get
    /// the agent's time until now.</remarks>
    private async Task SaveAsync(IReadOnlyList<string>? previousQueues = null)
    {
        Record.Version++;
        var now = clock.Now;
        var activity = AgentActivityRules.Of(Record.State, Record.Sessions.Values.Select(h => h.State));
        AgentActivityChange? change = null;
        if (activity != Record.Activity || (previousQueues is not null && !previousQueues.SequenceEqual(Record.Queues)))
        {
            change = new AgentActivityChange(Id, Record.Activity, Record.ActivitySince, previousQueues ?? Record.Queues, activity, now, Record.Queues);
            Record.Activity = activity;
            Record.ActivitySince = now;
        }

        await state.WriteStateAsync();
        if (change is not null)
        {
            kpi.Record(change);
        }
    }

    private void ArmAlarm()
    {
        var next = _desktops.GraceUntil;
        if (_membership.DueAt is { } confirm && (next is null || confirm < next))
        {
            next = confirm;
        }

        if (AgentSnapshots.NextDue(Record) is { } due && (next is null || due < next))
        {
            next = due;
        }

        _alarm?.Set(next);
    }

    /// <summary>Tells the agent's desktop (wherever it is connected) what just happened: one-way pushes, nothing when no
    /// desktop is connected.</summary>
    private Task NotifyDesktopsAsync(AgentEventType type, string? sessionId = null, OfferNotice? offer = null)
    {
        if (_desktops.Any)
        {
            _desktops.Push(new AgentUpdate { AgentId = Id, Type = type, Agent = View(), Offer = offer, SessionId = sessionId, At = clock.Now });
        }

        return Task.CompletedTask;
    }

    /// <summary>A user action done: answered with the agent as it is now.</summary>
    private Answer<AgentView> Done() => new(Outcome.Ok, View());

    private AgentSupply Supply() => AgentSnapshots.Supply(Id, Record);

    private AgentSupply Gone() => AgentSnapshots.Gone(Id);

    private ISessionGrain Session(string id) => grains.Session(id);

    private IQueueGrain Queue(string id) => grains.Queue(id);

    private AgentView View() => AgentSnapshots.View(Id, Record, clock.Now);
}
