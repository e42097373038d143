using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

/// <summary>A full queue: 100,000 waiting, mixed segments and channels, inserted in random order.</summary>
public sealed class LargeWaitingListTests
{
    private const int Waiting = 100_000;

    private static readonly QueuePolicy Policy = QueuePolicy.Default;

    private static readonly HeadStart[] HeadStarts =
        [HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.OfSeconds(60), HeadStart.OfSeconds(30), HeadStart.Strict];

    private static List<SessionDemand> Sessions(int seed, Channel[] channels)
    {
        var random = new Random(seed);
        var sessions = new List<SessionDemand>(Waiting);
        for (var i = 0; i < Waiting; i++)
        {
            // Arrivals on a millisecond grid over ~28 hours, with deliberate collisions.
            sessions.Add(Session(
                $"s{i:D6}",
                T0 + TimeSpan.FromMilliseconds(random.Next(0, 100_000_000)),
                HeadStarts[random.Next(HeadStarts.Length)],
                channel: channels[random.Next(channels.Length)],
                sequence: i));
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sessions));
        return sessions;
    }

    /// <summary>The spec's order, computed from the score at one instant: strict first, then score, then arrival.</summary>
    private static IEnumerable<string> ExpectedOrder(IEnumerable<SessionDemand> sessions, DateTimeOffset now) => sessions
        .OrderByDescending(s => s.HeadStart.IsStrict)
        .ThenByDescending(s => (decimal)(now - s.Arrival).Ticks + (decimal)TimeSpan.FromSeconds(s.HeadStart.Seconds).Ticks)
        .ThenBy(s => s.Arrival)
        .ThenBy(s => s.Sequence)
        .Select(s => s.SessionId);

    [Fact]
    public void WaitingList_With100000Waiting_KeepsOldestRemovalAndOrderCorrect()
    {
        var sessions = Sessions(seed: 20250303, [Channel.Voice]);
        var list = new WaitingList();
        foreach (var s in sessions)
        {
            list.Add(s);
        }

        var now = T0 + TimeSpan.FromDays(2);
        Assert.Equal(Waiting, list.Count);
        Assert.Equal(sessions.MinBy(s => (s.Arrival, s.Sequence))!.SessionId, list.Oldest?.SessionId);
        Assert.Equal(ExpectedOrder(sessions, now), list.InServiceOrder(Channel.Voice).Select(s => s.SessionId));

        // Remove every other session, in random order, including the oldest.
        var removed = sessions.Where((_, i) => i % 2 == 0).ToList();
        removed.Add(sessions.MinBy(s => (s.Arrival, s.Sequence))!);
        foreach (var s in removed.DistinctBy(s => s.SessionId))
        {
            Assert.Same(s, list.Remove(s.SessionId));
        }

        var removedIds = removed.Select(s => s.SessionId).ToHashSet();
        var remaining = sessions.Where(s => !removedIds.Contains(s.SessionId)).ToList();
        Assert.Equal(remaining.Count, list.Count);
        Assert.DoesNotContain(removed, s => list.Contains(s.SessionId));
        Assert.Equal(remaining.MinBy(s => (s.Arrival, s.Sequence))!.SessionId, list.Oldest?.SessionId);
        Assert.Equal(ExpectedOrder(remaining, now), list.InServiceOrder(Channel.Voice).Select(s => s.SessionId));
        Assert.Equal(
            remaining.OrderBy(s => s.Arrival).ThenBy(s => s.Sequence).Select(s => s.SessionId),
            list.ArrivedAtOrBefore(now).Select(s => s.SessionId));

        // The head of the queue is what a free agent gets.
        Assert.Equal(
            ExpectedOrder(remaining, now).First(),
            list.BestFor(Agent("a"), Policy, now, NoOneElse)?.Session.SessionId);

        // Drain through the head: every session comes out once, in order.
        var drained = new List<string>(remaining.Count);
        while (list.Count > 0)
        {
            var head = list.InServiceOrder(Channel.Voice).First();
            drained.Add(list.Remove(head.SessionId)!.SessionId);
        }

        Assert.Equal(ExpectedOrder(remaining, now), drained);
        Assert.Null(list.Oldest);
    }

    [Fact]
    public void WaitingList_With100000WaitingOnSeveralChannels_BestForIsTheBestOfTheChannelsWithRoom()
    {
        Channel[] channels = [Channel.Voice, Channel.Chat, Channel.Email, Channel.Sms];
        var sessions = Sessions(seed: 7, channels);
        var list = new WaitingList();
        foreach (var s in sessions)
        {
            list.Add(s);
        }

        var now = T0 + TimeSpan.FromDays(2);
        var holdingAChat = Agent("a", active: Channels((Channel.Chat, 1)));
        var expected = ExpectedOrder(sessions.Where(s => s.Channel is Channel.Chat or Channel.Email or Channel.Sms), now).First();

        Assert.Equal(expected, list.BestFor(holdingAChat, Policy, now, NoOneElse)?.Session.SessionId);
        foreach (var channel in channels)
        {
            Assert.Equal(
                ExpectedOrder(sessions.Where(s => s.Channel == channel), now),
                list.InServiceOrder(channel).Select(s => s.SessionId));
        }
    }
}
