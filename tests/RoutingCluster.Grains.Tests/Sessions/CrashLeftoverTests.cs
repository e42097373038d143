using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Sessions;

/// <summary>
/// Holds and offers left inconsistent by a crash between the agent's and the session's writes heal themselves.
/// An offer whose agent no longer holds it (the agent grain lost it in a crash between its write and the session's,
/// or gave it up before a delayed offer reached the session) must not leave the session offered forever.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CrashLeftoverTests(RoutingClusterFixture fx)
{
    [Fact]
    public async Task OfferNobodyHolds_GoesBackToTheQueue_AfterItsExpiryAndTheGrace_AndIsServedThen()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var session = await s.SessionAsync("late", queue);
        var ghost = s.Id("ghost");

        // An offer the session accepts but no agent holds: no agent alarm will ever end it.
        var expiresAt = fx.Time.GetUtcNow().AddSeconds(10);
        Assert.Equal(OfferReply.Offered, await fx.Session(session).OfferAsync(new OfferCommand(ghost, expiresAt, Explanation(ghost))));
        await fx.AdvanceAsync(TimeSpan.FromSeconds(10) + RoutingCluster.Grains.Sessions.SessionGrain.OrphanedOfferGrace - TimeSpan.FromSeconds(1));
        Assert.Equal(SessionState.Offered, (await s.GetSession(session)).State);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(2));
        var back = await s.GetSession(session);
        Assert.Equal(SessionState.Queued, back.State);
        Assert.Equal($"missed by {ghost}", back.History[^1].Note);
        Assert.Contains(ghost, back.RejectedBy);

        // Back at its place: the next ready agent gets it.
        var agent = await s.AgentAsync("a", [queue]);
        var offered = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, offered.State);
        Assert.Equal(agent, offered.AgentId);
    }

    [Fact]
    public async Task OfferArrivingAfterItsExpiry_IsRefused()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var session = await s.SessionAsync("stale", queue);
        var agent = s.Id("slow");

        Assert.Equal(OfferReply.TooLate, await fx.Session(session).OfferAsync(new OfferCommand(agent, fx.Time.GetUtcNow(), Explanation(agent))));
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);
    }

    [Fact]
    public async Task OfferMadeByTheQueue_ReachingTheSessionTooLate_LeavesItInItsQueue_AndItIsOfferedAgain()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a", [queue]);
        var session = s.Id("slow-link");

        // The agent is free when the session arrives: the queue makes the offer attempt, and the session is reached
        // only after the offer expired (as when its silo died on the way and it came back elsewhere).
        DelayOfferPastItsExpiry(session);
        await s.SessionAsync("slow-link", queue);
        await AssertOfferedTo(s, session, agent);
    }

    [Fact]
    public async Task OfferOfAClaimedSession_ReachingItTooLate_GivesItBackToItsQueue_AndItIsOfferedAgain()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var session = await s.SessionAsync("slow-claim", queue);

        // The session waits when the agent comes: the agent claims it from the queue, and its offer is late.
        DelayOfferPastItsExpiry(session);
        var agent = await s.AgentAsync("a", [queue]);
        await AssertOfferedTo(s, session, agent);
    }

    [Fact]
    public async Task SessionItsQueueLostTrackOf_IsTakenBackFromTheRecords_AndServed()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var session = await s.SessionAsync("forgotten", queue);

        // The queue lets go of it while it still waits (as a fault between two grains' steps could), and its record
        // says it waits there.
        await fx.Queue(queue).RemoveAsync(session);
        RoutingClusterFixture.RecordedQueues.SetQueued(queue, session);
        var agent = await s.AgentAsync("a", [queue]);
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);

        // Unheld at two comparisons in a row: taken back, and the free agent gets it.
        var interval = new RoutingCluster.Grains.Queues.QueueOptions().ReconcileInterval;
        await fx.AdvanceAsync(interval * 2 + TimeSpan.FromSeconds(1));
        await fx.SettleAsync();
        RoutingClusterFixture.RecordedQueues.SetQueued(queue);
        await AssertOfferedTo(s, session, agent);
    }

    [Fact]
    public async Task HoldOfASessionThatMovedOn_IsReleasedWhenTheAgentTriesToEndIt()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a", [queue]);
        var session = await s.SessionAsync("moved", queue);
        Assert.True((await fx.Agent(agent).AcceptAsync(session)).IsOk);

        // The session finishes behind the agent's back, as when a crash lost the agent's writes after the session's.
        Assert.True((await fx.Session(session).EndAsync(agent)).IsOk);
        await fx.Session(session).CompleteAsync(agent);

        Assert.False((await fx.Agent(agent).EndAsync(session)).IsOk);
        await fx.SettleAsync();
        var view = (await fx.Agent(agent).GetAsync())!;
        Assert.Empty(view.Sessions);

        // Free again: the next session reaches it.
        var next = await s.SessionAsync("next", queue);
        Assert.Equal(agent, (await s.GetSession(next)).AgentId);
    }

    /// <summary>The next offer to the session reaches it one second after the offer expired.</summary>
    private static void DelayOfferPastItsExpiry(string session) =>
        RoutingClusterFixture.DelayOfferTo(session, TimeSpan.FromSeconds(QueuePolicy.Default.OfferTimeoutSeconds + 1));

    private async Task AssertOfferedTo(Scenario s, string session, string agent)
    {
        await fx.SettleAsync();
        var view = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, view.State);
        Assert.Equal(agent, view.AgentId);
    }

    private static Explanation Explanation(string agentId) => new()
    {
        Decision = "agent-surplus",
        CandidateCount = 1,
        Strategy = AgentSelection.LongestIdle,
        AgentId = agentId,
        AgentIdleSeconds = 0,
        Score = 0,
        WaitedSeconds = 0,
        HeadStart = "0",
        DecidedAt = DateTimeOffset.UnixEpoch,
    };
}
