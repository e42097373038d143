using CsCheck;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Ordering;

/// <summary>The ordering invariants, checked over generated queues.</summary>
public sealed class OrderingPropertyTests
{
    private static readonly Segment[][] SegmentChoices =
    [
        [], [], [], [Segment.Elderly], [Segment.Vip], [Segment.Disabled], [Segment.Military], [Segment.Vip, Segment.Elderly],
    ];

    /// <summary>Arrival in tenths of a second within ten minutes, and a segment choice.</summary>
    private static readonly Gen<(int Tenths, int SegmentChoice)[]> Arrivals =
        Gen.Select(Gen.Int[0, 6000], Gen.Int[0, SegmentChoices.Length - 1]).Array[1, 80];

    private static List<SessionDemand> Queue((int Tenths, int SegmentChoice)[] arrivals, QueuePolicy policy) =>
        [.. arrivals.Select((a, i) => Customer($"s{i}", At(a.Tenths / 10.0), policy, segments: SegmentChoices[a.SegmentChoice]))];

    private static List<SessionDemand> InServiceOrder(IEnumerable<SessionDemand> sessions)
    {
        var list = new WaitingList();
        foreach (var s in sessions)
        {
            list.Add(s);
        }

        return [.. list.InServiceOrder(Channel.Voice)];
    }

    [Fact]
    public void Ordering_NoSessionIsOvertakenByOneArrivingMoreThanTheLargestHeadStartLater()
    {
        var policy = QueuePolicy.Default;
        var largest = policy.HeadStarts.Values.Max(h => h.Seconds);

        Arrivals.Sample(arrivals =>
        {
            var order = InServiceOrder(Queue(arrivals, policy));
            for (var i = 0; i < order.Count; i++)
            {
                for (var j = i + 1; j < order.Count; j++)
                {
                    var ahead = order[i];
                    var behind = order[j];
                    Assert.False(
                        (ahead.Arrival - behind.Arrival).TotalSeconds > largest,
                        $"{ahead.SessionId} (arrived {ahead.Arrival:O}) overtook {behind.SessionId} (arrived {behind.Arrival:O})");
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Ordering_ServiceOrder_IsScoreDescendingThenEarliestArrival_AtAnyInstant()
    {
        var policy = QueuePolicy.Default;

        Gen.Select(Arrivals, Gen.Int[6000, 20000]).Sample((arrivals, nowTenths) =>
        {
            var sessions = Queue(arrivals, policy);
            var now = At(nowTenths / 10.0);
            var expected = sessions
                .OrderByDescending(s => Math.Round(s.ScoreAt(now), 3))
                .ThenBy(s => s.Arrival)
                .ThenBy(s => s.Sequence)
                .Select(s => s.SessionId);

            Assert.Equal(expected, InServiceOrder(sessions).Select(s => s.SessionId));
        }, iter: 300);
    }

    [Fact]
    public void Ordering_ServiceOrder_DoesNotDependOnInsertionOrder()
    {
        var policy = QueuePolicy.Default;

        Gen.Select(Arrivals, Gen.Int).Sample((arrivals, seed) =>
        {
            var sessions = Queue(arrivals, policy);
            var shuffled = sessions.ToArray();
            new Random(seed).Shuffle(shuffled);

            Assert.Equal(
                InServiceOrder(sessions).Select(s => s.SessionId),
                InServiceOrder(shuffled).Select(s => s.SessionId));
        }, iter: 200);
    }
}
