using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Agents;

[Collection(ClusterCollection.Name)]
public sealed class AgentDesktopTests(RoutingClusterFixture fx)
{
    [Fact]
    public async Task ConnectedDesktop_ReceivesTheOfferPushedByTheAgentGrain()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue]);
        var relay = new FakeDesktop();
        var reference = fx.Cluster.Client.CreateObjectReference<IAgentDesktopObserver>(relay);
        Assert.NotNull(await fx.Agent(agent).DesktopConnectedAsync("conn-1", reference));

        var session = await s.SessionAsync("s1", queue, segments: [Segment.Military]);

        var offer = await relay.WaitFor(u => u.Type == AgentEventType.Offer);
        Assert.Equal(session, offer.Offer!.SessionId);
        Assert.Contains(Segment.Military, offer.Offer.Segments);
        Assert.Equal(offer.Offer.OfferedAt + TimeSpan.FromSeconds(15), offer.Offer.ExpiresAt);
    }

    [Fact]
    public async Task TwoDesktopsThroughOneSilo_TheSiloHearsEachOfferOnce()
    {
        // A desktop that reconnected is registered again before its old connection is known to be gone: the agent
        // then has two connections through the same silo's relay, which sends each update to every desktop of the
        // agent it knows. The agent must hand each update to that relay once, or every desktop sees the offer twice.
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue]);
        var relay = new FakeDesktop();
        var reference = relay.Reference(fx);
        Assert.NotNull(await fx.Agent(agent).DesktopConnectedAsync("conn-old", reference));
        Assert.NotNull(await fx.Agent(agent).DesktopConnectedAsync("conn-new", reference));

        var session = await s.SessionAsync("s1", queue);
        await relay.WaitFor(u => u.Type == AgentEventType.Offer);
        Assert.True((await fx.Agent(agent).AcceptAsync(session)).IsOk);
        await relay.WaitFor(u => u.Type == AgentEventType.Changed && u.Agent.Sessions.Any(h => h.SessionId == session && h.State == HeldState.Connected));

        Assert.Single(relay.Updates, u => u.Type == AgentEventType.Offer);
    }

    [Fact]
    public async Task LastDesktopDisconnected_AgentSetNotReadyOnlyAfterGracePeriod_AndPendingOfferKept()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { OfferTimeoutSeconds = 120 });
        var agent = await s.AgentAsync("a1", [queue]);
        var relay = fx.Cluster.Client.CreateObjectReference<IAgentDesktopObserver>(new FakeDesktop());
        await fx.Agent(agent).DesktopConnectedAsync("conn-1", relay);
        var session = await s.SessionAsync("s1", queue);

        await fx.Agent(agent).DesktopDisconnectedAsync("conn-1");
        await fx.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.Equal(AgentState.Ready, (await s.GetAgent(agent)).State);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(1));
        var view = await s.GetAgent(agent);
        Assert.Equal(AgentState.NotReady, view.State);
        Assert.Equal("disconnected", view.Reason);
        Assert.Equal(session, Assert.Single(view.Offers).SessionId);

        // Reconnecting finds the offer still pending and can answer it.
        Assert.Equal(session, Assert.Single((await fx.Agent(agent).DesktopConnectedAsync("conn-2", relay))!.Offers).SessionId);
        Assert.True((await fx.Agent(agent).AcceptAsync(session)).IsOk);
    }

    [Fact]
    public async Task DesktopReconnectingWithinGracePeriod_KeepsAgentReady()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue]);
        var relay = fx.Cluster.Client.CreateObjectReference<IAgentDesktopObserver>(new FakeDesktop());
        await fx.Agent(agent).DesktopConnectedAsync("conn-1", relay);

        await fx.Agent(agent).DesktopDisconnectedAsync("conn-1");
        await fx.AdvanceAsync(TimeSpan.FromSeconds(20));
        await fx.Agent(agent).DesktopConnectedAsync("conn-2", relay);
        await fx.AdvanceAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(AgentState.Ready, (await s.GetAgent(agent)).State);
    }

    [Fact]
    public async Task AnOfferThatNeverReachedTheDesktopInTime_ExpiresBackToTheQueue_WithoutSettingTheAgentNotReady()
    {
        var relay = new FakeDesktop { NeverShown = true };
        var (s, agent, session) = await OfferUnansweredUntilItExpires(relay);

        var view = await s.GetAgent(agent);
        Assert.Equal(AgentState.Ready, view.State);
        Assert.DoesNotContain(view.Offers, o => o.SessionId == session && o.ExpiresAt <= fx.Time.GetUtcNow());
        var again = await relay.WaitFor(u => u.Type == AgentEventType.Offer && u.Offer!.SessionId == session && u.Offer.OfferedAt >= fx.Time.GetUtcNow());
        Assert.Equal(session, again.Offer!.SessionId);
    }

    [Fact]
    public async Task AnOfferTheDesktopHadInTime_ExpiringUnanswered_SetsTheAgentNotReady()
    {
        var (s, agent, session) = await OfferUnansweredUntilItExpires(new FakeDesktop());

        var view = await s.GetAgent(agent);
        Assert.Equal(AgentState.NotReady, view.State);
        Assert.Equal("missed-offer", view.Reason);
        Assert.Empty(view.Offers);
        Assert.Equal(SessionState.Queued, (await fx.Session(session).GetAsync())!.State);
    }

    /// <summary>An agent with one desktop (<paramref name="relay"/>) is offered a session and lets the offer expire.</summary>
    private async Task<(Scenario Scenario, string Agent, string Session)> OfferUnansweredUntilItExpires(FakeDesktop relay)
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue]);
        await fx.Agent(agent).DesktopConnectedAsync("conn-1", fx.Cluster.Client.CreateObjectReference<IAgentDesktopObserver>(relay));
        var session = await s.SessionAsync("s1", queue);
        await relay.WaitFor(u => u.Type == AgentEventType.Offer);
        await fx.AdvanceAsync(TimeSpan.FromSeconds(15));
        return (s, agent, session);
    }
}
