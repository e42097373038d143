using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Ordering;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Ordering;

/// <summary>Spec, "Ordering: who is served first": score = seconds waited + head start, highest first.</summary>
public sealed class ServiceOrderTests
{
    private static readonly QueuePolicy Policy = QueuePolicy.Default;

    private static string[] ServiceOrder(params SessionDemand[] sessions)
    {
        var list = new WaitingList();
        foreach (var s in sessions)
        {
            list.Add(s);
        }

        return [.. list.InServiceOrder(Channel.Voice).Select(s => s.SessionId)];
    }

    [Fact]
    public void Ordering_ElderlyArrivingLater_IsServedBeforeOrdinaryWithinHeadStart()
    {
        var ordinary = Customer("ordinary", At(0), Policy);
        var elderly = Customer("elderly", At(45), Policy, segments: Segment.Elderly);

        Assert.Equal(["elderly", "ordinary"], ServiceOrder(ordinary, elderly));
        Assert.True(elderly.ScoreAt(At(50)) > ordinary.ScoreAt(At(50)));
    }

    [Fact]
    public void Ordering_ElderlyArrivingJustUnderHeadStartLater_IsStillServedFirst()
    {
        var ordinary = Customer("ordinary", At(0), Policy);
        var elderly = Customer("elderly", At(59.5), Policy, segments: Segment.Elderly);

        Assert.Equal(["elderly", "ordinary"], ServiceOrder(ordinary, elderly));
    }

    [Fact]
    public void Ordering_OrdinaryThatWaitedMoreThanHeadStart_StaysAheadOfLaterElderly()
    {
        var ordinary = Customer("ordinary", At(0), Policy);
        var elderly = Customer("elderly", At(61), Policy, segments: Segment.Elderly);

        Assert.Equal(["ordinary", "elderly"], ServiceOrder(elderly, ordinary));
        Assert.True(ordinary.ScoreAt(At(100)) > elderly.ScoreAt(At(100)));
    }

    [Fact]
    public void Ordering_ElderlyArrivingExactlyHeadStartLater_TiesAndEarliestArrivalGoesFirst()
    {
        var ordinary = Customer("ordinary", At(0), Policy);
        var elderly = Customer("elderly", At(60), Policy, segments: Segment.Elderly);

        Assert.Equal(ordinary.ScoreAt(At(90)), elderly.ScoreAt(At(90)));
        Assert.Equal(["ordinary", "elderly"], ServiceOrder(elderly, ordinary));
    }

    [Fact]
    public void Ordering_EqualScoresFromDifferentHeadStarts_EarliestArrivalGoesFirst()
    {
        // vip (30 s) arriving at 0 and elderly (60 s) arriving at 30 have the same score at every instant.
        var vip = Customer("vip", At(0), Policy, segments: Segment.Vip);
        var elderly = Customer("elderly", At(30), Policy, segments: Segment.Elderly);

        Assert.Equal(vip.ScoreAt(At(40)), elderly.ScoreAt(At(40)));
        Assert.Equal(["vip", "elderly"], ServiceOrder(elderly, vip));
    }

    [Fact]
    public void Ordering_SameArrivalAndHeadStart_GoesToTheOrderTheQueueReceivedThem()
    {
        var first = Session("first", At(5), sequence: 10);
        var second = Session("second", At(5), sequence: 11);

        Assert.Equal(["first", "second"], ServiceOrder(second, first));
    }

    [Fact]
    public void Ordering_StrictHeadStart_BeatsAnyWait()
    {
        var policy = Policy with
        {
            HeadStarts = new Dictionary<Segment, HeadStart>(QueuePolicy.DefaultHeadStarts) { [Segment.Vip] = HeadStart.Strict },
        };
        var waitedAnHour = Customer("waited-an-hour", At(-3600), policy);
        var elderlyWaitedAnHour = Customer("elderly-waited-an-hour", At(-3600), policy, segments: Segment.Elderly);
        var vip = Customer("vip", At(0), policy, segments: Segment.Vip);

        Assert.True(vip.HeadStart.IsStrict);
        Assert.Equal(["vip", "elderly-waited-an-hour", "waited-an-hour"], ServiceOrder(waitedAnHour, elderlyWaitedAnHour, vip));
    }

    [Fact]
    public void Ordering_SeveralStrictSessions_AreServedByArrival()
    {
        var early = Session("strict-early", At(0), HeadStart.Strict);
        var late = Session("strict-late", At(10), HeadStart.Strict);
        var ordinary = Session("ordinary", At(-1000));

        Assert.Equal(["strict-early", "strict-late", "ordinary"], ServiceOrder(late, ordinary, early));
    }

    [Fact]
    public void Ordering_SessionInSeveralSegments_GetsTheLargestHeadStart()
    {
        // vip alone (30 s) would fall behind an ordinary session that waited 45 s; with elderly (60 s) it does not.
        var ordinary = Customer("ordinary", At(0), Policy);
        var vipOnly = Customer("vip", At(45), Policy, segments: Segment.Vip);
        var vipAndElderly = Customer("vip-elderly", At(45), Policy, segments: [Segment.Vip, Segment.Elderly]);

        Assert.Equal(HeadStart.OfSeconds(60), vipAndElderly.HeadStart);
        Assert.Equal(["vip-elderly", "ordinary", "vip"], ServiceOrder(vipOnly, ordinary, vipAndElderly));
    }

    [Theory]
    [InlineData(new[] { Segment.Vip, Segment.Elderly }, 60.0)]
    [InlineData(new[] { Segment.Elderly, Segment.Vip }, 60.0)]
    [InlineData(new[] { Segment.Vip, Segment.Military }, 90.0)]
    [InlineData(new[] { Segment.Vip }, 30.0)]
    public void HeadStart_OfSeveralSegments_IsTheLargestConfigured(Segment[] segments, double expected)
    {
        var config = new Dictionary<Segment, HeadStart>(QueuePolicy.DefaultHeadStarts) { [Segment.Military] = HeadStart.OfSeconds(90) };

        Assert.Equal(HeadStart.OfSeconds(expected), PriorityPolicy.HeadStartFor(segments, config));
    }

    [Fact]
    public void HeadStart_StrictSegmentAmongSeveral_MakesTheSessionStrict()
    {
        var config = new Dictionary<Segment, HeadStart>(QueuePolicy.DefaultHeadStarts) { [Segment.Disabled] = HeadStart.Strict };

        Assert.True(PriorityPolicy.HeadStartFor([Segment.Elderly, Segment.Disabled, Segment.Vip], config).IsStrict);
        Assert.True(HeadStart.Max(HeadStart.OfSeconds(1_000_000), HeadStart.Strict).IsStrict);
        Assert.True(HeadStart.Max(HeadStart.Strict, HeadStart.OfSeconds(1_000_000)).IsStrict);
    }

    [Fact]
    public void HeadStart_SegmentWithoutConfiguredHeadStart_AddsNothing()
    {
        var config = new Dictionary<Segment, HeadStart> { [Segment.Elderly] = HeadStart.OfSeconds(60) };

        Assert.Equal(HeadStart.None, PriorityPolicy.HeadStartFor([Segment.Vip], config));
        Assert.Equal(HeadStart.None, PriorityPolicy.HeadStartFor([], config));
    }

    [Fact]
    public void HeadStart_Defaults_AreElderlyDisabledMilitary60AndVip30()
    {
        var defaults = QueuePolicy.Default.HeadStarts;

        Assert.Equal(HeadStart.OfSeconds(60), defaults[Segment.Elderly]);
        Assert.Equal(HeadStart.OfSeconds(60), defaults[Segment.Disabled]);
        Assert.Equal(HeadStart.OfSeconds(60), defaults[Segment.Military]);
        Assert.Equal(HeadStart.OfSeconds(30), defaults[Segment.Vip]);
    }

    [Fact]
    public void Score_IsSecondsWaitedPlusHeadStart()
    {
        Assert.Equal(42.5, PriorityPolicy.Score(At(0), HeadStart.None, At(42.5)), 9);
        Assert.Equal(102.5, PriorityPolicy.Score(At(0), HeadStart.OfSeconds(60), At(42.5)), 9);
        Assert.Equal(102.5, Session("s", At(0), HeadStart.OfSeconds(60)).ScoreAt(At(42.5)), 9);
    }

    [Fact]
    public void WaitKey_OrdersLikeTheScoreAtAnyInstant()
    {
        var a = Session("a", At(0), HeadStart.OfSeconds(30));
        var b = Session("b", At(20), HeadStart.OfSeconds(60));

        // b: arrival - 60 = -40, a: arrival - 30 = -30: b is ahead, now and later.
        Assert.True(b.Key.IsAheadOf(a.Key));
        Assert.True(b.Key < a.Key);
        Assert.True(a.Key > b.Key);
        foreach (var now in new[] { At(20), At(100), At(10_000) })
        {
            Assert.True(b.ScoreAt(now) > a.ScoreAt(now));
        }
    }

    [Fact]
    public void WaitKey_NoHeadStart_IsPlainArrivalOrder()
    {
        Assert.True(Session("a", At(0)).Key.IsAheadOf(Session("b", At(0.001)).Key));
        Assert.False(Session("b", At(0.001)).Key.IsAheadOf(Session("a", At(0)).Key));
    }
}
