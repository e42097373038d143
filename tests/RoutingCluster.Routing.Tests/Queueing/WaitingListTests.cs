using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

public sealed class WaitingListTests
{
    private static readonly QueuePolicy Policy = QueuePolicy.Default;

    private static WaitingList ListOf(params SessionDemand[] sessions)
    {
        var list = new WaitingList();
        foreach (var s in sessions)
        {
            list.Add(s);
        }

        return list;
    }

    private static string[] Ids(IEnumerable<SessionDemand> sessions) => [.. sessions.Select(s => s.SessionId)];

    [Fact]
    public void WaitingList_RejectedOfferReaddedWithOriginalArrival_KeepsItsPlace()
    {
        var first = Session("first", At(0));
        var list = ListOf(first, Session("second", At(5)), Session("third", At(10)));

        // Offered to an agent, then rejected (or timed out) 20 s later: it comes back with its arrival and sequence.
        Assert.Same(first, list.Remove("first"));
        list.Add(Session("fourth", At(15)));
        list.Add(first with { RejectedBy = new HashSet<string> { "a-17" } });

        Assert.Equal(["first", "second", "third", "fourth"], Ids(list.InServiceOrder(Channel.Voice)));
        Assert.Equal("first", list.Oldest?.SessionId);
        Assert.Equal("first", list.BestFor(Agent("b"), Policy, At(20), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void WaitingList_RejectedElderlyReadded_KeepsItsHeadStartPlace()
    {
        var elderly = Session("elderly", At(30), HeadStart.OfSeconds(60));
        var list = ListOf(Session("ordinary", At(0)), elderly);
        list.Remove("elderly");
        list.Add(Session("late", At(40)));
        list.Add(elderly with { RejectedBy = new HashSet<string> { "a-1" } });

        Assert.Equal(["elderly", "ordinary", "late"], Ids(list.InServiceOrder(Channel.Voice)));
    }

    [Fact]
    public void WaitingList_AddWithSameId_ReplacesTheSession()
    {
        var list = ListOf(Session("s", At(0)), Session("t", At(5)));
        list.Add(Session("s", At(10), channel: Channel.Chat));

        Assert.Equal(2, list.Count);
        Assert.Equal(["t"], Ids(list.InServiceOrder(Channel.Voice)));
        Assert.Equal(["s"], Ids(list.InServiceOrder(Channel.Chat)));
        Assert.Equal("t", list.Oldest?.SessionId);
    }

    [Fact]
    public void WaitingList_RemoveUnknown_ReturnsNullAndChangesNothing()
    {
        var list = ListOf(Session("s", At(0)));

        Assert.Null(list.Remove("nope"));
        Assert.Equal(1, list.Count);
        Assert.True(list.Contains("s"));
        Assert.False(list.Contains("nope"));
    }

    [Fact]
    public void WaitingList_Empty_HasNoOldestNoBestNoNextChange()
    {
        var list = new WaitingList();
        var policy = Policy with { Relaxation = [new RelaxationStep(30, 1)] };

        Assert.Null(list.Oldest);
        Assert.Null(list.BestFor(Agent("a"), policy, At(0), NoOneElse));
        Assert.Null(list.NextEligibilityChange(policy, At(0)));
        Assert.Empty(list.InServiceOrder(Channel.Voice));
    }

    [Fact]
    public void WaitingList_Oldest_IsLongestWaitingRegardlessOfPriority()
    {
        var list = ListOf(Session("vip", At(10), HeadStart.Strict), Session("ordinary", At(0)), Session("later", At(20)));

        Assert.Equal("ordinary", list.Oldest?.SessionId);
        Assert.Equal("vip", list.InServiceOrder(Channel.Voice).First().SessionId);
    }

    [Fact]
    public void WaitingList_ArrivedAtOrBefore_ListsLongestWaitingFirstUpToTheCutoff()
    {
        var list = ListOf(Session("c", At(20)), Session("a", At(0)), Session("b", At(10)), Session("d", At(30)));

        Assert.Equal(["a", "b", "c"], Ids(list.ArrivedAtOrBefore(At(20))));
        Assert.Empty(list.ArrivedAtOrBefore(At(-1)));
    }

    [Fact]
    public void WaitingList_SessionsWithIdenticalArrivalAndSequence_AreAllKept()
    {
        // Two sessions that look alike to the ordering (same instant, same head start, same sequence) are still
        // two sessions: neither may vanish from the service order, and removing one must not remove the other.
        var list = ListOf(Session("a", At(0), sequence: 7), Session("b", At(0), sequence: 7));

        Assert.Equal(2, list.Count);
        Assert.Equal(["a", "b"], Ids(list.InServiceOrder(Channel.Voice)).Order());

        Assert.Equal(2, list.ArrivedAtOrBefore(At(0)).Count());

        // Removing the one added last must leave the first one waiting, and servable.
        list.Remove("b");

        Assert.Equal(["a"], Ids(list.InServiceOrder(Channel.Voice)));
        Assert.Equal("a", list.Oldest?.SessionId);
        Assert.Equal("a", list.BestFor(Agent("x"), Policy, At(1), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void BestFor_PicksTheHighestScoringSessionAcrossChannelsTheAgentHasRoomOn()
    {
        var list = ListOf(
            Session("chat-late", At(10), channel: Channel.Chat),
            Session("email-early", At(0), channel: Channel.Email),
            Session("sms", At(5), channel: Channel.Sms));

        var candidate = list.BestFor(Agent("a"), Policy, At(20), NoOneElse);

        Assert.Equal("email-early", candidate?.Session.SessionId);
    }

    [Fact]
    public void BestFor_HeadStartCountsAcrossChannels()
    {
        var list = ListOf(
            Session("email-early", At(0), channel: Channel.Email),
            Session("chat-elderly", At(30), HeadStart.OfSeconds(60), channel: Channel.Chat));

        Assert.Equal("chat-elderly", list.BestFor(Agent("a"), Policy, At(40), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void BestFor_SkipsChannelsTheAgentHasNoRoomOn()
    {
        var list = ListOf(
            Session("voice-oldest", At(0), channel: Channel.Voice),
            Session("chat-full", At(1), channel: Channel.Chat),
            Session("email", At(2), channel: Channel.Email));
        var agent = Agent("a", active: Channels((Channel.Chat, 3)));

        // Holding chats: no voice (exclusive needs an agent holding nothing), no more chat (full), email has room.
        Assert.Equal("email", list.BestFor(agent, Policy, At(10), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void BestFor_AgentOnAVoiceCall_GetsNothing()
    {
        var list = ListOf(Session("chat", At(0), channel: Channel.Chat), Session("voice", At(0)));

        Assert.Null(list.BestFor(Agent("a", active: Channels((Channel.Voice, 1))), Policy, At(10), NoOneElse));
    }

    [Fact]
    public void BestFor_SkipsSessionsNeedingSkillsTheAgentLacks()
    {
        var list = ListOf(
            Session("needs-mandarin", At(0), skills: Skills(("mandarin", 3))),
            Session("needs-cards-5", At(1), skills: Skills(("cards", 5))),
            Session("needs-cards-2", At(2), skills: Skills(("cards", 2))),
            Session("needs-nothing", At(3)));
        var agent = Agent("a", skills: Skills(("cards", 3)));

        Assert.Equal("needs-cards-2", list.BestFor(agent, Policy, At(10), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void BestFor_SkipsSessionsOfQueuesTheAgentDoesNotServe()
    {
        var list = ListOf(Session("s", At(0)));

        Assert.Null(list.BestFor(Agent("a", queues: ["loans"]), Policy, At(10), NoOneElse));
    }

    [Fact]
    public void BestFor_NotReadyAgent_GetsNothing()
    {
        var list = ListOf(Session("s", At(0)));

        Assert.Null(list.BestFor(Agent("a", state: AgentState.NotReady), Policy, At(10), NoOneElse));
    }

    [Fact]
    public void BestFor_ReportsTheRelaxationStepThatMatched()
    {
        var policy = Policy with { Relaxation = [new RelaxationStep(30, 1)] };
        var list = ListOf(Session("s", At(0), skills: Skills(("cards", 3))));
        var agent = Agent("a", skills: Skills(("cards", 2)));

        Assert.Null(list.BestFor(agent, policy, At(29), NoOneElse));
        var candidate = list.BestFor(agent, policy, At(30), NoOneElse);
        Assert.Equal("s", candidate?.Session.SessionId);
        Assert.Equal(0, candidate?.RelaxationStep);
    }

    [Fact]
    public void BestFor_FindsTheSessionItMayTake_BehindThousandsNeedingASkillItLacks()
    {
        // The scan does not stop after a few thousand sessions per channel: an agent must not stay free while a session
        // it could take waits behind more than that many it cannot.
        var list = new WaitingList();
        for (var i = 0; i < 5_000; i++)
        {
            list.Add(Session($"mandarin-{i}", At(i * 0.01), skills: Skills(("mandarin", 3))));
        }

        list.Add(Session("cards", At(60), skills: Skills(("cards", 2))));
        var agent = Agent("a", skills: Skills(("cards", 3)));

        Assert.Equal("cards", list.BestFor(agent, Policy, At(70), NoOneElse)?.Session.SessionId);
        Assert.Null(list.BestFor(Agent("b", skills: Skills(("loans", 5))), Policy, At(70), NoOneElse));
    }

    [Fact]
    public void BestFor_FindsARelaxedSession_BehindThousandsWithAHeadStartNotRelaxedYet()
    {
        // The ordinary session reached the relaxation step; the VIP sessions that arrived after it are ahead of it in
        // service order (head start 60 s) but have not waited 30 s yet, so this agent may take only the ordinary one.
        var policy = Policy with { Relaxation = [new RelaxationStep(30, 1)] };
        var list = new WaitingList();
        list.Add(Session("ordinary", At(0), skills: Skills(("cards", 3))));
        for (var i = 0; i < 5_000; i++)
        {
            list.Add(Session($"vip-{i}", At(2 + (i * 0.001)), HeadStart.OfSeconds(60), skills: Skills(("cards", 3))));
        }

        var agent = Agent("a", skills: Skills(("cards", 2)));

        var candidate = list.BestFor(agent, policy, At(31), NoOneElse);
        Assert.Equal("ordinary", candidate?.Session.SessionId);
        Assert.Equal(0, candidate?.RelaxationStep);

        // A fully skilled agent still gets the head of the queue.
        Assert.Equal("vip-0", list.BestFor(Agent("b", skills: Skills(("cards", 3))), policy, At(31), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void BestFor_PassingOverSessions_AllocatesNothingPerSession()
    {
        // No closure per scanned session (it would cost about 32 B each). Here the agent may take every session but rejected
        // them all while someone else could take them, so it looks at each one and takes none.
        var list = new WaitingList();
        for (var i = 0; i < 2_000; i++)
        {
            list.Add(Session($"s-{i}", At(i * 0.01), rejectedBy: ["a"]));
        }

        var agent = Agent("a");
        Assert.Null(list.BestFor(agent, Policy, At(100), SomeoneElse));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var candidate = list.BestFor(agent, Policy, At(100), SomeoneElse);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(candidate);
        Assert.True(allocated < 4_000, $"BestFor allocated {allocated} B passing over 2,000 sessions");
    }

    [Fact]
    public void NextEligibilityChange_IsTheNextRelaxationInstant()
    {
        var policy = Policy with { Relaxation = [new RelaxationStep(30, 1), new RelaxationStep(60, 2)] };
        var list = ListOf(Session("a", At(0)), Session("b", At(10)));

        Assert.Equal(At(30), list.NextEligibilityChange(policy, At(5)));
        Assert.Equal(At(40), list.NextEligibilityChange(policy, At(30)));   // a reached step 0 at 30; b reaches it at 40
        Assert.Equal(At(60), list.NextEligibilityChange(policy, At(45)));   // a reaches step 1
        Assert.Equal(At(70), list.NextEligibilityChange(policy, At(60)));   // b reaches step 1
        Assert.Null(list.NextEligibilityChange(policy, At(70)));
    }

    [Fact]
    public void NextEligibilityChange_NoStepsAndNoPreferredAgents_IsNever()
    {
        var list = ListOf(Session("a", At(0)));

        Assert.Null(list.NextEligibilityChange(Policy, At(1)));
    }

    [Fact]
    public void NextEligibilityChange_IsTheEndOfThePreferredAgentWindow()
    {
        var list = ListOf(
            Session("p1", At(0), preferredAgent: "a-1", preferredUntil: At(20)),
            Session("p2", At(5), preferredAgent: "a-2", preferredUntil: At(45)),
            Session("plain", At(1)));

        Assert.Equal(At(20), list.NextEligibilityChange(Policy, At(10)));
        Assert.Equal(At(45), list.NextEligibilityChange(Policy, At(20)));
        Assert.Null(list.NextEligibilityChange(Policy, At(45)));
    }

    [Fact]
    public void NextEligibilityChange_IsTheEarlierOfRelaxationAndPreferredWindow()
    {
        var policy = Policy with { Relaxation = [new RelaxationStep(30, 1)] };
        var list = ListOf(
            Session("p", At(0), preferredAgent: "a-1", preferredUntil: At(50)),
            Session("plain", At(5)));

        Assert.Equal(At(30), list.NextEligibilityChange(policy, At(10)));
        Assert.Equal(At(35), list.NextEligibilityChange(policy, At(30)));
        Assert.Equal(At(50), list.NextEligibilityChange(policy, At(35)));
    }

    [Fact]
    public void NextEligibilityChange_FollowsRemovals()
    {
        var policy = Policy with { Relaxation = [new RelaxationStep(30, 1)] };
        var list = ListOf(Session("a", At(0)), Session("b", At(12)));
        list.Remove("a");

        Assert.Equal(At(42), list.NextEligibilityChange(policy, At(13)));
    }
}
