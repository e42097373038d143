using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

public sealed class QueueDispatcherTests
{
    private static QueueDispatcher Dispatcher(QueuePolicy? policy = null, DispatcherSettings? settings = null) =>
        new(Queue, policy ?? QueuePolicy.Default, settings ?? new DispatcherSettings(TimeSpan.Zero, 0));

    private static SessionDemand Arrive(QueueDispatcher d, string id, double at, bool isReturn = false, long sequence = 0)
    {
        var demand = Session(id, At(at), sequence: sequence);
        if (sequence == 0)
        {
            demand = demand with { Sequence = 0 };
        }

        Assert.Equal(ArrivalOutcome.Accepted, d.Arrive(ref demand, isReturn, At(at)));
        return demand;
    }

    private static OfferDecision SingleOffer(QueueDispatcher d) => Assert.IsType<OfferDecision>(Assert.Single(d.TakeDecisions()));

    private static AgentSupply Busy(AgentSupply agent) =>
        agent with { Active = new Dictionary<Channel, int> { [Channel.Voice] = 1 }, Version = agent.Version + 1 };

    [Fact]
    public void Arrival_WithFreeAgent_OffersIt_AsAgentSurplus_AndHoldsTheSessionInFlight()
    {
        var d = Dispatcher();
        d.AgentChanged(Agent("a1"), At(0));
        Assert.Empty(d.TakeDecisions());

        var s = Arrive(d, "s1", 1);

        var offer = SingleOffer(d);
        Assert.Equal(("s1", "a1", MatchKind.AgentSurplus), (offer.Session.SessionId, offer.AgentId, offer.Kind));
        Assert.Equal(1, s.Sequence);
        Assert.True(d.Holds("s1"));
        Assert.Equal((0, 1), (d.WaitingCount, d.OfferingCount));
    }

    [Fact]
    public void Agent_WithAnAttemptInFlight_IsOfferedNothingElse_UntilTheOutcome()
    {
        var d = Dispatcher();
        var a1 = Agent("a1", capacity: Channels((Channel.Chat, 3)));
        d.AgentChanged(a1, At(0));
        var first = Session("s1", At(1), channel: Channel.Chat) with { Sequence = 0 };
        d.Arrive(ref first, false, At(1));
        var offer = SingleOffer(d);
        var second = Session("s2", At(2), channel: Channel.Chat) with { Sequence = 0 };
        d.Arrive(ref second, false, At(2));
        Assert.Empty(d.TakeDecisions());
        Assert.Equal(new Peek(null, OfferInFlight: true), d.PeekFor(a1, At(2)));
        Assert.Null(d.Claim(a1, null, At(2)));

        var after = a1 with { Active = new Dictionary<Channel, int> { [Channel.Chat] = 1 }, Version = 2 };
        d.AttemptDone(offer.Session, "a1", AttemptOutcome.Offered, after, At(3));

        var next = SingleOffer(d);
        Assert.Equal(("s2", MatchKind.SessionSurplus), (next.Session.SessionId, next.Kind));
    }

    [Fact]
    public void AgentUnavailable_TheSessionGoesBack_AndThatAgentIsNotAskedAgainUntilItPublishesNewer()
    {
        var d = Dispatcher();
        var a1 = Agent("a1", idleSince: At(-10));
        var a2 = Agent("a2", idleSince: At(-5));
        d.AgentChanged(a1, At(0));
        d.AgentChanged(a2, At(0));
        Arrive(d, "s1", 1);
        var offer = SingleOffer(d);
        Assert.Equal("a1", offer.AgentId);

        // a1 declines with the same snapshot version: the session goes to a2, not back to a1.
        d.AttemptDone(offer.Session, "a1", AttemptOutcome.AgentUnavailable, a1, At(2));
        var retry = SingleOffer(d);
        Assert.Equal(("s1", "a2"), (retry.Session.SessionId, retry.AgentId));
        Assert.Equal(retry.Session.Sequence, offer.Session.Sequence);
    }

    [Fact]
    public void Declined_ByTheOnlyAgent_IsOfferedToItAgain_OnlyAfterANewerSnapshot()
    {
        var d = Dispatcher();
        var a1 = Agent("a1");
        d.AgentChanged(a1, At(0));
        Arrive(d, "s1", 1);
        var offer = SingleOffer(d);
        d.AttemptDone(offer.Session, "a1", AttemptOutcome.AgentUnavailable, a1, At(2));
        Assert.Empty(d.TakeDecisions());
        Assert.Equal(1, d.WaitingCount);

        d.AgentChanged(a1 with { Version = 2 }, At(3));
        Assert.Equal("s1", SingleOffer(d).Session.SessionId);
    }

    [Fact]
    public void NoAnswer_KeepsTheSession_DropsTheAgent_AndAsksItToPublishAtTheRetry()
    {
        var d = Dispatcher();
        d.AgentChanged(Agent("a1"), At(0));
        Arrive(d, "s1", 1);
        var offer = SingleOffer(d);

        d.AttemptDone(offer.Session, "a1", AttemptOutcome.NoAnswer, null, At(2));

        Assert.Empty(d.TakeDecisions());
        Assert.Equal((1, 0, 0), (d.WaitingCount, d.OfferingCount, d.AgentCount));
        Assert.Equal(At(2) + QueueDispatcher.RetryDelay, d.NextWake(At(2)));
        d.Wake(At(3));
        Assert.Equal("a1", Assert.IsType<AskAgentDecision>(Assert.Single(d.TakeDecisions())).AgentId);

        // Still unreachable: asked again at the next retry.
        d.AgentUnreachable("a1", At(3));
        Assert.Equal(At(3) + QueueDispatcher.RetryDelay, d.NextWake(At(3)));
        d.Wake(At(4));
        Assert.IsType<AskAgentDecision>(Assert.Single(d.TakeDecisions()));
        d.Wake(At(5));
        Assert.Empty(d.TakeDecisions());
    }

    [Fact]
    public void SessionLeaving_DuringAnAttempt_DoesNotComeBack_WhateverTheOutcome()
    {
        var d = Dispatcher();
        var a1 = Agent("a1");
        d.AgentChanged(a1, At(0));
        Arrive(d, "s1", 1);
        var offer = SingleOffer(d);

        d.Leave("s1");
        d.AttemptDone(offer.Session, "a1", AttemptOutcome.OfferTooLate, a1, At(2));

        Assert.Empty(d.TakeDecisions());
        Assert.False(d.Holds("s1"));
        Assert.Equal(0, d.WaitingCount);
    }

    [Theory]
    [InlineData(AttemptOutcome.OfferTooLate, true)]
    [InlineData(AttemptOutcome.SessionGone, false)]
    [InlineData(AttemptOutcome.Offered, false)]
    public void AttemptOutcome_DecidesWhetherTheSessionWaitsAgain(AttemptOutcome outcome, bool waitsAgain)
    {
        var d = Dispatcher();
        var a1 = Agent("a1");
        d.AgentChanged(a1, At(0));
        Arrive(d, "s1", 1);
        var offer = SingleOffer(d);

        d.AttemptDone(offer.Session, "a1", outcome, outcome == AttemptOutcome.Offered ? Busy(a1) : Busy(a1), At(2));

        Assert.Equal(waitsAgain, d.Holds("s1"));
    }

    [Fact]
    public void Full_Queue_RefusesNewArrivals_ButTakesReturns()
    {
        var d = Dispatcher(QueuePolicy.Default with { MaxWaiting = 1 });
        Arrive(d, "s1", 1);
        var s2 = Session("s2", At(2)) with { Sequence = 0 };
        Assert.Equal(ArrivalOutcome.QueueFull, d.Arrive(ref s2, false, At(2)));
        Assert.Equal(0, s2.Sequence);
        Arrive(d, "s3", 3, isReturn: true, sequence: 7);
        Assert.Equal(2, d.WaitingCount);
    }

    [Fact]
    public void MaxWait_ExpiresTheLongestWaitingFirst_ToTheOverflowQueue()
    {
        var d = Dispatcher(QueuePolicy.Default with { MaxWaitSeconds = 60, OverflowQueueId = "spill" });
        Arrive(d, "s1", 0);
        Arrive(d, "s2", 10);
        Assert.Equal(At(60), d.NextWake(At(10)));

        d.Wake(At(60));

        var expired = Assert.IsType<ExpireDecision>(Assert.Single(d.TakeDecisions()));
        Assert.Equal(("s1", "spill"), (expired.Session.SessionId, expired.OverflowQueueId));
        Assert.Equal(At(70), d.NextWake(At(60)));
    }

    [Fact]
    public void Recovering_MatchesNothing_ThenOffersEachFreeAgentTheBestOfTheWholeList()
    {
        var d = Dispatcher();
        d.BeginRecovery();
        var a1 = Agent("a1");
        d.AgentChanged(a1, At(0));
        Arrive(d, "late", 5, isReturn: true, sequence: 2);
        Arrive(d, "early", 1, isReturn: true, sequence: 1);
        Assert.Empty(d.TakeDecisions());
        Assert.Null(d.PeekFor(a1, At(6)));

        d.EndRecovery(At(6));

        Assert.Equal("early", SingleOffer(d).Session.SessionId);
    }

    [Fact]
    public void Claim_TakesTheNamedSession_OrTheBest_AndPeekDoesNotTake()
    {
        var d = Dispatcher();
        Arrive(d, "s1", 1);
        Arrive(d, "s2", 2);
        var agent = Agent("a1", state: AgentState.Ready);

        Assert.Null(d.PeekFor(agent with { State = AgentState.NotReady }, At(3)));
        Assert.Equal("s1", d.PeekFor(agent, At(3))!.Session!.SessionId);
        Assert.Equal(2, d.WaitingCount);
        Assert.Equal("s2", d.Claim(agent, "s2", At(3))!.Value.Session.SessionId);
        Assert.Null(d.Claim(agent, "s2", At(3)));
        Assert.Equal("s1", d.Claim(agent, null, At(3))!.Value.Session.SessionId);
        Assert.Equal(0, d.WaitingCount);
    }

    [Fact]
    public void AgentLeavingTheQueue_IsForgotten()
    {
        var d = Dispatcher();
        Assert.True(d.AgentChanged(Agent("a1"), At(0)));
        Assert.False(d.AgentChanged(Agent("a1", queues: ["other"], version: 2), At(1)));
        Assert.Equal(0, d.AgentCount);
        Arrive(d, "s1", 2);
        Assert.Empty(d.TakeDecisions());
    }

    [Fact]
    public void Positions_AreToldPerChannel_WithThePlaceTimesTheSmoothedTimeBetweenOffers()
    {
        var d = Dispatcher(settings: new DispatcherSettings(TimeSpan.FromSeconds(15), 2));
        var agent = Agent("a1", state: AgentState.NotReady); // claims by id; never matched by the dispatcher itself
        Arrive(d, "x", 0);
        Arrive(d, "y", 0);
        d.Claim(agent, "x", At(10));
        d.Claim(agent, "y", At(20)); // 10 s between offers
        Arrive(d, "s1", 21);
        Arrive(d, "s2", 22);
        Arrive(d, "s3", 23);
        var chat = Session("c1", At(24), channel: Channel.Chat) with { Sequence = 0 };
        d.Arrive(ref chat, false, At(24));
        Assert.Equal(At(39), d.NextWake(At(24)));

        d.Wake(At(39));

        var told = Assert.IsType<PositionsDecision>(Assert.Single(d.TakeDecisions())).Positions;
        Assert.Equal(
            [new WaitingPosition("s1", Channel.Voice, 1, 10), new WaitingPosition("s2", Channel.Voice, 2, 20), new WaitingPosition("c1", Channel.Chat, 1, 10)],
            told);
    }

    [Fact]
    public void CrossQueueChoice_WaitsForAnOfferInFlight_ElseTakesTheFirstInServiceOrder()
    {
        var early = Session("early", At(1));
        var late = Session("late", At(5));
        Assert.Equal(CrossQueuePick.WaitForOffer, CrossQueueChoice.Choose([(false, early), (true, null)]));
        Assert.Equal(CrossQueuePick.None, CrossQueueChoice.Choose([(false, null), (false, null)]));
        Assert.Same(early, CrossQueueChoice.Choose([(false, late), (false, null), (false, early)]).Session);
        var elderly = Session("elderly", At(5), headStart: HeadStart.Strict);
        Assert.Same(elderly, CrossQueueChoice.Choose([(false, early), (false, elderly)]).Session);
    }
}
