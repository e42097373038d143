using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Sessions;

/// <summary>
/// A session pushes its transitions to those who follow it (a gateway), and an agent its offers to its desktops; a
/// session nobody follows pushes nothing. Pushes are best effort: a follower that fails costs the session nothing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionFollowerTests(RoutingClusterFixture fx)
{
    /// <summary>Observer references are weak: the followers must outlive the tests that registered them.</summary>
    private static readonly ConcurrentBag<object> KeepAlive = [];

    [Fact]
    public async Task FollowerAndDesktop_HearTheLifecycleAndTheOffer()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue], ready: false);
        var sessionId = s.Id("s1");

        // Followed from before the session exists, as a gateway may do.
        var sessionEvents = new Follower();
        Assert.Null(await fx.Session(sessionId).FollowAsync(sessionEvents.Reference(fx)));
        var desktop = new FakeDesktop();
        Assert.NotNull(await fx.Agent(agent).DesktopConnectedAsync("conn-1", desktop.Reference(fx)));

        await s.SessionAsync("s1", queue, age: 80);
        await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));
        var offer = await desktop.WaitFor(u => u.Type == AgentEventType.Offer);
        Assert.Equal(sessionId, offer.Offer!.SessionId);
        Assert.Contains(Segment.Elderly, offer.Offer.Segments);
        Assert.Equal(Channel.Voice, offer.Offer.Channel);

        await s.Do(() => fx.Agent(agent).AcceptAsync(sessionId));
        await sessionEvents.WaitFor(u => u.Type == SessionEventType.Connected);
        Assert.Equal(
            [SessionEventType.Queued, SessionEventType.Offered, SessionEventType.Connected],
            sessionEvents.Items.Select(u => u.Type).ToArray());
    }

    [Fact]
    public async Task WaitingSessions_AreToldTheirPositionPeriodically()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        await s.AgentAsync("a1", [queue], ready: false);
        await s.SessionAsync("first", queue);
        var second = await s.SessionAsync("second", queue);
        var events = new Follower();
        Assert.NotNull(await fx.Session(second).FollowAsync(events.Reference(fx)));

        await fx.AdvanceAsync(TimeSpan.FromSeconds(15));

        var position = await events.WaitFor(u => u.Type == SessionEventType.Position);
        Assert.Equal(2, position.Position);
    }

    [Fact]
    public async Task SessionNobodyFollows_IsToldNoPosition_AndAFollowerWhoLeft_HearsNothingMore()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        await s.AgentAsync("a1", [queue], ready: false);
        var first = await s.SessionAsync("first", queue);
        var second = await s.SessionAsync("second", queue);
        var left = new Follower();
        var reference = left.Reference(fx);
        Assert.NotNull(await fx.Session(first).FollowAsync(reference));
        await fx.Session(first).UnfollowAsync(reference);
        long Positions() => RoutingClusterFixture.CallsOf(nameof(ISessionGrain.PositionAsync), first) + RoutingClusterFixture.CallsOf(nameof(ISessionGrain.PositionAsync), second);
        var positionsBefore = Positions();

        await fx.AdvanceAsync(TimeSpan.FromSeconds(15));
        await s.Do(() => fx.Session(first).AbandonAsync());

        Assert.Equal(positionsBefore, Positions());
        Assert.Empty(left.Items);
        Assert.Equal(SessionState.Queued, (await s.GetSession(second)).State);
    }

    [Fact]
    public async Task FollowerThatRefusesEveryEvent_CostsTheSessionNothing_AndTheSessionRunsItsWholeLifecycle()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { WrapUpSeconds = 10 });
        var agent = await s.AgentAsync("a1", [queue], ready: false);
        var dropsBefore = Drops();
        var session = s.Id("s1");
        using (RoutingClusterFixture.RefuseEvents())
        {
            // Every step pushes an event the follower refuses; each step must stand all the same. The follower is
            // forgotten after the first refusal and follows again before each step, so every step is refused.
            var follower = new Follower();
            var reference = follower.Reference(fx);
            Assert.Null(await fx.Session(session).FollowAsync(reference));
            await s.SessionAsync("s1", queue);
            await fx.Session(session).FollowAsync(reference);
            await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));
            var offered = await s.GetSession(session);
            Assert.Equal(SessionState.Offered, offered.State);
            Assert.Equal(agent, offered.AgentId);
            Assert.Equal(session, await s.OfferOf(agent));

            await fx.Session(session).FollowAsync(reference);
            Assert.True((await fx.Agent(agent).AcceptAsync(session)).IsOk);
            await fx.AdvanceAsync(TimeSpan.FromSeconds(60));
            await fx.Session(session).FollowAsync(reference);
            Assert.True((await fx.Agent(agent).EndAsync(session)).IsOk);
            await fx.Session(session).FollowAsync(reference);
            await fx.AdvanceAsync(TimeSpan.FromSeconds(10));
            await fx.SettleAsync();
            Assert.Empty(follower.Items);
        }

        var done = await s.GetSession(session);
        Assert.Equal(SessionState.Completed, done.State);
        Assert.Equal(
            [SessionState.Queued, SessionState.Offered, SessionState.Connected, SessionState.WrapUp, SessionState.Completed],
            done.History.Select(h => h.State).ToArray());
        Assert.Empty((await s.GetAgent(agent)).Sessions);
        Assert.True(Drops() - dropsBefore >= 5, $"dropped {Drops() - dropsBefore}");

        // Once followers take events again, events flow: the next session's follower hears it queued.
        var next = s.Id("s2");
        var events = new Follower();
        await fx.Session(next).FollowAsync(events.Reference(fx));
        await fx.Agent(agent).SetStateAsync(AgentState.NotReady, "break");
        await s.SessionAsync("s2", queue);
        await events.WaitFor(u => u.Type == SessionEventType.Queued);
    }

    private long Drops() => fx.Cluster.Silos.Sum(silo => silo.ServiceProvider.GetRequiredService<RoutingCluster.Grains.Infrastructure.EventDrops>().Total);

    private sealed class Follower : ISessionFollower
    {
        private readonly Mailbox<SessionUpdate> _mailbox = new();

        public Follower() => KeepAlive.Add(this);

        public IReadOnlyList<SessionUpdate> Items => _mailbox.Items;

        public ISessionFollower Reference(RoutingClusterFixture fx) => fx.Cluster.Client.CreateObjectReference<ISessionFollower>(this);

        public Task OnSessionUpdateAsync(SessionUpdate update)
        {
            _mailbox.Add(update);
            return Task.CompletedTask;
        }

        public Task<SessionUpdate> WaitFor(Func<SessionUpdate, bool> predicate) => _mailbox.WaitFor(predicate);
    }
}
