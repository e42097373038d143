using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests;

/// <summary>
/// An offer whose agent no longer holds it (the agent grain lost it in a crash between its write and the session's,
/// or gave it up before a delayed offer reached the session) must not leave the session offered forever.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OrphanedOfferTests(RoutingClusterFixture fx)
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
        Assert.True(await fx.Session(session).OfferAsync(new OfferCommand(ghost, expiresAt, Explanation(ghost))));
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

        Assert.False(await fx.Session(session).OfferAsync(new OfferCommand(agent, fx.Time.GetUtcNow(), Explanation(agent))));
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);
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
