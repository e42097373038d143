using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

/// <summary>Callbacks (virtual hold) in the dispatcher: an immediate one keeps its place, a scheduled one waits from its
/// time with its head start, neither is expired for waiting, and leaving cancels either.</summary>
public sealed class CallbackDispatchTests
{
    private static readonly HeadStart Elderly = HeadStart.OfSeconds(60);

    private static QueueDispatcher Dispatcher(QueuePolicy? policy = null, DispatcherSettings? settings = null) =>
        new(Queue, policy ?? QueuePolicy.Default, settings ?? new DispatcherSettings(TimeSpan.Zero, 0));

    private static void Arrive(QueueDispatcher d, string id, double at, HeadStart? headStart = null)
    {
        var demand = Session(id, At(at), headStart) with { Sequence = 0 };
        Assert.Equal(ArrivalOutcome.Accepted, d.Arrive(ref demand, isReturn: false, At(at)));
    }

    /// <summary>Every session an agent would take now, best first (the agent claims them one by one, then is busy).</summary>
    private static List<SessionDemand> ClaimAll(QueueDispatcher d, double at)
    {
        var agent = Agent("a1");
        var claimed = new List<SessionDemand>();
        while (d.Claim(agent, null, At(at)) is { } candidate)
        {
            claimed.Add(candidate.Session);
        }

        d.AgentChanged(agent with { Active = new Dictionary<Channel, int> { [Channel.Voice] = 1 }, Version = 2 }, At(at));
        return claimed;
    }

    private static string[] Ids(IEnumerable<SessionDemand> sessions) => [.. sessions.Select(s => s.SessionId)];

    [Fact]
    public void ImmediateCallback_KeepsItsPlace_ItsArrivalAndHeadStartUnchanged()
    {
        var d = Dispatcher();
        Arrive(d, "first", 0);
        Arrive(d, "caller", 10);
        Arrive(d, "third", 20);

        d.RequestCallback("caller", null, At(25));

        Assert.True(d.Holds("caller"));
        Assert.Equal((3, 1), (d.WaitingCount, d.WaitingCallbackCount));
        var served = ClaimAll(d, 30);
        Assert.Equal(["first", "caller", "third"], Ids(served));
        var callback = served[1];
        Assert.True(callback.Callback);
        Assert.Equal((At(10), HeadStart.None), (callback.Arrival, callback.HeadStart));
    }

    [Fact]
    public void ScheduledCallback_LeavesTheListUntilItsTime_ThenWaitsAsIfItArrivedThen_WithItsHeadStart()
    {
        var d = Dispatcher();
        Arrive(d, "caller", 0, Elderly);
        d.RequestCallback("caller", At(100), At(5));
        Assert.True(d.Holds("caller"));
        Assert.Equal((0, 1), (d.WaitingCount, d.ScheduledCallbackCount));
        Assert.Equal(At(100), d.NextWake(At(5)));

        Arrive(d, "early", 35);  // 35 < 100 − 60: ahead of the callback
        Arrive(d, "later", 50);  // 50 > 100 − 60: behind it
        Arrive(d, "after", 130);

        // Before its time an agent gets the others only.
        d.Wake(At(99));
        Assert.False(d.TakeDecisions().OfType<OfferDecision>().Any());
        Assert.Equal(1, d.ScheduledCallbackCount);

        d.Wake(At(100));
        Assert.Equal((0, 4), (d.ScheduledCallbackCount, d.WaitingCount));
        var served = ClaimAll(d, 130);
        Assert.Equal(["early", "caller", "later", "after"], Ids(served));
        var callback = served[1];
        Assert.True(callback.Callback);
        Assert.Equal((At(100), Elderly), (callback.Arrival, callback.HeadStart));
    }

    [Fact]
    public void ScheduledCallback_ComingBackAfterARestart_IsScheduledAgain_AndAnOverdueOneWaitsAtOnce()
    {
        var d = Dispatcher();
        var scheduled = Session("later", At(300)) with { Callback = true, Sequence = 4 };
        var overdue = Session("due", At(50)) with { Callback = true, Sequence = 3 };
        d.BeginRecovery();
        d.Arrive(ref scheduled, isReturn: true, At(100));
        d.Arrive(ref overdue, isReturn: true, At(100));
        d.EndRecovery(At(100));

        Assert.Equal((1, 1), (d.WaitingCount, d.ScheduledCallbackCount));
        Assert.True(d.Holds("later"));
        Assert.Equal(At(300), d.NextWake(At(100)));
        Assert.Equal(["due"], Ids(ClaimAll(d, 100)));
    }

    [Fact]
    public void Callback_IsNotExpiredForWaiting_AndItsAgeCausesNoWakeUp()
    {
        var d = Dispatcher(QueuePolicy.Default with { MaxWaitSeconds = 60, OverflowQueueId = "spill" });
        Arrive(d, "caller", 0);
        d.RequestCallback("caller", null, At(5));

        // Nothing to wait for: no max wait applies to it (a wake-up at arrival + max wait would come back at once, forever).
        Assert.Null(d.NextWake(At(5)));
        d.Wake(At(600));
        Assert.Empty(d.TakeDecisions());
        Assert.Null(d.NextWake(At(600)));

        // A session on the line beside it still leaves at its max wait, and then the queue sleeps again.
        Arrive(d, "on-line", 600);
        Assert.Equal(At(660), d.NextWake(At(600)));
        d.Wake(At(660));
        var expired = Assert.IsType<ExpireDecision>(Assert.Single(d.TakeDecisions()));
        Assert.Equal("on-line", expired.Session.SessionId);
        Assert.Null(d.NextWake(At(660)));
        Assert.Equal(1, d.WaitingCount);
    }

    [Fact]
    public void NextWake_NeverAtOrBeforeNow_WhileOnlyCallbacksWait()
    {
        var d = Dispatcher(QueuePolicy.Default with { MaxWaitSeconds = 30 }, new DispatcherSettings(TimeSpan.FromSeconds(15), 500));
        Arrive(d, "a", 0);
        Arrive(d, "b", 1);
        d.RequestCallback("a", null, At(2));
        d.RequestCallback("b", At(40), At(2));
        var now = At(2);
        for (var i = 0; i < 20; i++)
        {
            var next = d.NextWake(now);
            Assert.NotNull(next);
            Assert.True(next > now, $"wake-up at {next:O} is not after {now:O}");
            now = next.Value;
            d.Wake(now);
            Assert.DoesNotContain(d.TakeDecisions(), x => x is ExpireDecision);
        }

        Assert.Equal(2, d.WaitingCount);
    }

    [Fact]
    public void Leaving_CancelsACallback_ImmediateOrScheduled()
    {
        var d = Dispatcher();
        Arrive(d, "now", 0);
        Arrive(d, "later", 1);
        d.RequestCallback("now", null, At(2));
        d.RequestCallback("later", At(50), At(2));

        d.Leave("now");
        d.Leave("later");

        Assert.False(d.Holds("now"));
        Assert.False(d.Holds("later"));
        Assert.Equal((0, 0), (d.WaitingCount, d.ScheduledCallbackCount));
        Assert.Null(d.NextWake(At(2)));
        d.Wake(At(50));
        Assert.Empty(d.TakeDecisions());
        Assert.Empty(ClaimAll(d, 50));
    }

    [Fact]
    public void CallbackAskedDuringAnOfferAttempt_AppliesWhenTheSessionComesBack()
    {
        var d = Dispatcher(QueuePolicy.Default with { MaxWaitSeconds = 60 });
        d.AgentChanged(Agent("a1"), At(0));
        Arrive(d, "caller", 1);
        var offer = Assert.IsType<OfferDecision>(Assert.Single(d.TakeDecisions()));
        Assert.False(offer.Session.Callback);

        d.RequestCallback("caller", At(200), At(2));
        d.AttemptDone(offer.Session, "a1", AttemptOutcome.OfferTooLate, null, At(3));

        Assert.Equal((0, 1), (d.WaitingCount, d.ScheduledCallbackCount));
        Assert.Empty(d.TakeDecisions());
        d.Wake(At(200));
        var again = Assert.IsType<OfferDecision>(Assert.Single(d.TakeDecisions()));
        Assert.True(again.Session.Callback);
        Assert.Equal(At(200), again.Session.Arrival);
    }

    [Fact]
    public void CallbackAskedWhileClaimed_AppliesWhenTheAgentGivesItBack()
    {
        var d = Dispatcher();
        Arrive(d, "caller", 1);
        var agent = Agent("a1");
        var claimed = d.Claim(agent, null, At(2))!.Value.Session;
        d.AgentChanged(agent with { State = AgentState.NotReady, Version = 2 }, At(2));

        d.RequestCallback("caller", null, At(3));
        d.GiveBack(claimed, At(4));

        var back = Assert.Single(ClaimAll(d, 5));
        Assert.True(back.Callback);
        Assert.Equal(At(1), back.Arrival);
    }

    [Fact]
    public void Positions_ProposeACallback_ToCustomersOnTheLineWhoseEstimateIsOverTheBound()
    {
        var d = Dispatcher(QueuePolicy.Default with { CallbackOffer = new CallbackOffer(30) }, new DispatcherSettings(TimeSpan.FromSeconds(15), 500));
        Arrive(d, "x1", 0);
        Arrive(d, "x2", 0);

        // Offers leave the queue every 20 s: places 1, 2, 3 are about 20, 40, 60 s away.
        var agent = Agent("a1");
        Assert.NotNull(d.Claim(agent, null, At(0)));
        Assert.NotNull(d.Claim(agent, null, At(20)));
        d.AgentChanged(agent with { State = AgentState.NotReady, Version = 2 }, At(20));
        Assert.Equal(20, d.SecondsPerOffer!.Value, 6);

        Arrive(d, "s3", 21);
        Arrive(d, "s4", 22);
        Arrive(d, "s5", 23);
        d.RequestCallback("s5", null, At(24));

        d.Wake(d.NextWake(At(24))!.Value);
        var positions = Assert.IsType<PositionsDecision>(Assert.Single(d.TakeDecisions())).Positions.ToDictionary(p => p.SessionId);
        Assert.Equal([1, 2, 3], new[] { positions["s3"].Position, positions["s4"].Position, positions["s5"].Position });
        Assert.False(positions["s3"].CallbackProposed);  // 20 s: within the bound
        Assert.True(positions["s4"].CallbackProposed);   // 40 s: over it
        Assert.False(positions["s5"].CallbackProposed);  // a callback already
    }

    [Fact]
    public void Positions_ProposeNothing_WhenTheQueueDoesNotOfferCallbacks()
    {
        var d = Dispatcher(settings: new DispatcherSettings(TimeSpan.FromSeconds(15), 500));
        Arrive(d, "x1", 0);
        Arrive(d, "x2", 0);
        Arrive(d, "s3", 1);
        var agent = Agent("a1");
        Assert.NotNull(d.Claim(agent, null, At(0)));
        Assert.NotNull(d.Claim(agent, null, At(20)));
        d.AgentChanged(agent with { State = AgentState.NotReady, Version = 2 }, At(20));

        d.Wake(d.NextWake(At(20))!.Value);
        var positions = Assert.IsType<PositionsDecision>(Assert.Single(d.TakeDecisions())).Positions;
        Assert.All(positions, p => Assert.False(p.CallbackProposed));
    }
}
