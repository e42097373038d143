using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Sessions;

[Collection(ClusterCollection.Name)]
public sealed class RoutingFlowTests(RoutingClusterFixture fx)
{
    [Fact]
    public async Task Session_WithReadyAgent_IsOfferedAndRunsItsWholeLifecycle()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { WrapUpSeconds = 10 });
        var agent = await s.AgentAsync("a1", [queue]);
        var session = await s.SessionAsync("s1", queue);

        var offered = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, offered.State);
        Assert.Equal(agent, offered.AgentId);
        Assert.Equal("agent-surplus", offered.Explanation!.Decision);
        Assert.Equal(1, offered.Explanation.CandidateCount);

        Assert.True((await fx.Agent(agent).AcceptAsync(session)).IsOk);
        Assert.Equal(SessionState.Connected, (await s.GetSession(session)).State);
        await fx.AdvanceAsync(TimeSpan.FromSeconds(90));
        Assert.True((await fx.Agent(agent).EndAsync(session)).IsOk);
        Assert.Equal(SessionState.WrapUp, (await s.GetSession(session)).State);

        // Wrap-up ends by itself after the queue's wrap-up time.
        await fx.AdvanceAsync(TimeSpan.FromSeconds(10));
        var done = await s.GetSession(session);
        Assert.Equal(SessionState.Completed, done.State);
        Assert.Empty((await s.GetAgent(agent)).Sessions);
    }

    [Fact]
    public async Task AgentBecomingReady_TakesElderlyBeforeEarlierOrdinary()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue], ready: false);
        var ordinary = await s.SessionAsync("ordinary", queue);
        await fx.AdvanceAsync(TimeSpan.FromSeconds(10));
        var elderly = await s.SessionAsync("elderly", queue, age: 72);

        await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));

        Assert.Equal(elderly, await s.OfferOf(agent));
        var view = await s.GetSession(elderly);
        Assert.Contains(Segment.Elderly, view.Segments);
        Assert.Equal("session-surplus", view.Explanation!.Decision);
        Assert.Equal(SessionState.Queued, (await s.GetSession(ordinary)).State);
    }

    [Fact]
    public async Task OrdinaryThatWaitedLongerThanHeadStart_StaysAheadOfLaterElderly()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue], ready: false);
        var ordinary = await s.SessionAsync("ordinary", queue);
        await fx.AdvanceAsync(TimeSpan.FromSeconds(61));
        await s.SessionAsync("elderly", queue, segments: [Segment.Elderly]);

        await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));

        Assert.Equal(ordinary, await s.OfferOf(agent));
    }

    [Fact]
    public async Task MissedOffer_RequeuesAtOriginalPlace_AndSetsAgentNotReady()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { OfferTimeoutSeconds = 15 });
        var a1 = await s.AgentAsync("a1", [queue]);
        var first = await s.SessionAsync("first", queue);
        Assert.Equal(first, await s.OfferOf(a1));
        var second = await s.SessionAsync("second", queue);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(16));

        var agent = await s.GetAgent(a1);
        Assert.Equal(AgentState.NotReady, agent.State);
        Assert.Equal("missed-offer", agent.Reason);
        Assert.Empty(agent.Offers);
        var back = await s.GetSession(first);
        Assert.Equal(SessionState.Queued, back.State);
        Assert.Equal(back.CreatedAt, back.QueuedAt);

        // A second agent gets the first session, which kept its place ahead of the second.
        var a2 = await s.AgentAsync("a2", [queue]);
        Assert.Equal(first, await s.OfferOf(a2));
        Assert.Equal(SessionState.Queued, (await s.GetSession(second)).State);

        // Accepting after expiry is refused.
        Assert.False((await fx.Agent(a1).AcceptAsync(first)).IsOk);
    }

    [Fact]
    public async Task RejectedSession_GoesToAnotherAgent_AndBackToRejecterOnlyWhenNobodyElse()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var a1 = await s.AgentAsync("a1", [queue]);
        var session = await s.SessionAsync("s", queue);
        Assert.Equal(a1, (await s.GetSession(session)).AgentId);

        // Nobody else is eligible: the rejecter is offered it again.
        await s.Do(() => fx.Agent(a1).RejectAsync(session));
        var again = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, again.State);
        Assert.Equal(a1, again.AgentId);
        Assert.True(again.Explanation!.PreviouslyRejected);

        var a2 = await s.AgentAsync("a2", [queue]);
        await s.Do(() => fx.Agent(a1).RejectAsync(session));
        var moved = await s.GetSession(session);
        Assert.Equal(a2, moved.AgentId);
    }

    [Fact]
    public async Task TwoQueuesOfferingAtOnce_NeverOverfillAnAgent()
    {
        var s = new Scenario(fx);
        var q1 = await s.QueueAsync("q1");
        var q2 = await s.QueueAsync("q2");
        var agent = await s.AgentAsync("a", [q1, q2], capacity: new() { [Channel.Voice] = 1, [Channel.Chat] = 2 });

        var created = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            fx.Session(s.Id($"s{i}")).CreateAsync(new RoutingCluster.Abstractions.Sessions.NewSession
            {
                QueueId = i % 2 == 0 ? q1 : q2,
                Channel = i % 4 < 2 ? Channel.Voice : Channel.Chat,
                Customer = new RoutingCluster.Abstractions.Sessions.Customer("c", null, []),
                Fingerprint = "f",
            })));
        Assert.All(created, c => Assert.Equal(RoutingCluster.Abstractions.Sessions.CreateStatus.Created, c.Status));
        await fx.SettleAsync();

        // Voice is exclusive: either one voice offer alone, or up to two chats.
        var view = await s.GetAgent(agent);
        var voice = view.Offers.Count(o => o.Channel == Channel.Voice);
        var chat = view.Offers.Count(o => o.Channel == Channel.Chat);
        Assert.True(voice == 1 ? chat == 0 : chat is > 0 and <= 2, $"voice {voice}, chat {chat}");
    }

    [Fact]
    public async Task Relaxation_LowersRequiredLevel_AfterConfiguredWait()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { Relaxation = [new RelaxationStep(30, 1)] });
        var junior = await s.AgentAsync("junior", [queue], skills: new() { ["cards"] = 2 });
        var session = await s.SessionAsync("s", queue, skills: new() { ["cards"] = 3 });
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(1));
        var view = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, view.State);
        Assert.Equal(junior, view.AgentId);
        Assert.Equal(0, view.Explanation!.RelaxationStep);
    }

    [Fact]
    public async Task PreferredAgent_GetsTheOfferWithinItsWindow_ThenAnyone()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var other = await s.AgentAsync("other", [queue]);
        var preferred = await s.AgentAsync("preferred", [queue], ready: false);
        var session = await s.SessionAsync("s", queue, preferredAgent: preferred, preferredWait: 20);
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(other, (await s.GetSession(session)).AgentId);
    }

    [Fact]
    public async Task MaxWait_MovesSessionToOverflowQueue()
    {
        var s = new Scenario(fx);
        var overflow = await s.QueueAsync("overflow");
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { MaxWaitSeconds = 60, OverflowQueueId = overflow });
        var backup = await s.AgentAsync("backup", [overflow]);
        var session = await s.SessionAsync("s", queue);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(60));

        var view = await s.GetSession(session);
        Assert.Equal(overflow, view.QueueId);
        Assert.Equal(backup, view.AgentId);
    }

    [Fact]
    public async Task FullQueue_RefusesNewSession()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("small", QueuePolicy.Default with { MaxWaiting = 1 });
        await s.SessionAsync("s1", queue);
        var refused = await fx.Session(s.Id("s2")).CreateAsync(new RoutingCluster.Abstractions.Sessions.NewSession
        {
            QueueId = queue,
            Channel = Channel.Voice,
            Customer = new RoutingCluster.Abstractions.Sessions.Customer("c", null, []),
        });
        Assert.Equal(RoutingCluster.Abstractions.Sessions.CreateStatus.Refused, refused.Status);
        Assert.Equal(SessionState.Refused, (await s.GetSession(s.Id("s2"))).State);
    }

    [Fact]
    public async Task AbandonWhileOffered_FreesTheAgent()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a", [queue]);
        var first = await s.SessionAsync("first", queue);
        var second = await s.SessionAsync("second", queue);
        Assert.Equal(first, await s.OfferOf(agent));

        await s.Do(() => fx.Session(first).AbandonAsync());

        Assert.Equal(SessionState.Abandoned, (await s.GetSession(first)).State);
        Assert.Equal(second, await s.OfferOf(agent));
    }

    [Fact]
    public async Task Transfer_MovesConnectedSessionToAnotherQueue()
    {
        var s = new Scenario(fx);
        var cards = await s.QueueAsync("cards");
        var loans = await s.QueueAsync("loans");
        var a1 = await s.AgentAsync("a1", [cards]);
        var a2 = await s.AgentAsync("a2", [loans]);
        var session = await s.SessionAsync("s", cards);
        await s.Do(() => fx.Agent(a1).AcceptAsync(session));

        await s.Do(() => fx.Session(session).TransferAsync(loans, null, 0));

        var view = await s.GetSession(session);
        Assert.Equal(loans, view.QueueId);
        Assert.Equal(a2, view.AgentId);
        Assert.Equal(HeldStateOf(await s.GetAgent(a1), session), RoutingCluster.Abstractions.Agents.HeldState.WrapUp);
    }

    [Fact]
    public async Task TransferBackToTheSameAgent_EndsItsWrapUpAndOffersTheSessionAgain()
    {
        var s = new Scenario(fx);
        var cards = await s.QueueAsync("cards");
        var loans = await s.QueueAsync("loans");
        var agent = await s.AgentAsync("a", [cards, loans], capacity: new() { [Channel.Chat] = 2 });
        var session = await s.SessionAsync("s", cards, channel: Channel.Chat);
        await s.Do(() => fx.Agent(agent).AcceptAsync(session));

        await s.Do(() => fx.Session(session).TransferAsync(loans, null, 0));

        var view = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, view.State);
        Assert.Equal(agent, view.AgentId);
        var held = Assert.Single((await s.GetAgent(agent)).Offers);
        Assert.Equal(session, held.SessionId);
        Assert.Empty((await s.GetAgent(agent)).Sessions);
    }

    private static RoutingCluster.Abstractions.Agents.HeldState? HeldStateOf(RoutingCluster.Abstractions.Agents.AgentView agent, string session) =>
        agent.Sessions.FirstOrDefault(x => x.SessionId == session)?.State;
}
