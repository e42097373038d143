using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Infrastructure;

[Collection(ClusterCollection.Name)]
public sealed class EventStreamTests(RoutingClusterFixture fx)
{
    [Fact]
    public async Task SessionAndAgentStreams_CarryTheLifecycleAndTheOffer()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue], ready: false);
        var sessionId = s.Id("s1");

        var provider = fx.Cluster.Client.GetStreamProvider(RoutingStreams.Provider);
        var sessionEvents = new Recorder<SessionUpdate>();
        var agentEvents = new Recorder<AgentUpdate>();
        var sessionSub = await provider.GetStream<SessionUpdate>(StreamId.Create(RoutingStreams.SessionNamespace, sessionId)).SubscribeAsync(sessionEvents.OnNext);
        var agentSub = await provider.GetStream<AgentUpdate>(StreamId.Create(RoutingStreams.AgentNamespace, agent)).SubscribeAsync(agentEvents.OnNext);

        await s.SessionAsync("s1", queue, age: 80);
        await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));
        var offer = await agentEvents.WaitFor(u => u.Type == AgentEventType.Offer);
        Assert.Equal(sessionId, offer.Offer!.SessionId);
        Assert.Contains(Segment.Elderly, offer.Offer.Segments);
        Assert.Equal(Channel.Voice, offer.Offer.Channel);

        await s.Do(() => fx.Agent(agent).AcceptAsync(sessionId));
        await sessionEvents.WaitFor(u => u.Type == SessionEventType.Connected);
        Assert.Equal(
            [SessionEventType.Queued, SessionEventType.Offered, SessionEventType.Connected],
            sessionEvents.Items.Select(u => u.Type).ToArray());

        await sessionSub.UnsubscribeAsync();
        await agentSub.UnsubscribeAsync();
    }

    [Fact]
    public async Task WaitingSessions_AreToldTheirPositionPeriodically()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        await s.AgentAsync("a1", [queue], ready: false);
        await s.SessionAsync("first", queue);
        var second = await s.SessionAsync("second", queue);
        var events = new Recorder<SessionUpdate>();
        var provider = fx.Cluster.Client.GetStreamProvider(RoutingStreams.Provider);
        var subscription = await provider.GetStream<SessionUpdate>(StreamId.Create(RoutingStreams.SessionNamespace, second)).SubscribeAsync(events.OnNext);

        await fx.AdvanceAsync(TimeSpan.FromSeconds(15));

        var position = await events.WaitFor(u => u.Type == SessionEventType.Position);
        Assert.Equal(2, position.Position);
        await subscription.UnsubscribeAsync();
    }

    [Fact]
    public async Task EventsTheStreamsRefuse_AreDropped_AndTheSessionRunsItsWholeLifecycle()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { WrapUpSeconds = 10 });
        var agent = await s.AgentAsync("a1", [queue], ready: false);
        var dropsBefore = Drops();
        string session;
        using (RoutingClusterFixture.RefuseEvents())
        {
            // Every step publishes an event the full stream queue refuses; each step must stand all the same.
            session = await s.SessionAsync("s1", queue);
            await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));
            var offered = await s.GetSession(session);
            Assert.Equal(SessionState.Offered, offered.State);
            Assert.Equal(agent, offered.AgentId);
            Assert.Equal(session, await s.OfferOf(agent));

            Assert.True((await fx.Agent(agent).AcceptAsync(session)).IsOk);
            await fx.AdvanceAsync(TimeSpan.FromSeconds(60));
            Assert.True((await fx.Agent(agent).EndAsync(session)).IsOk);
            await fx.AdvanceAsync(TimeSpan.FromSeconds(10));
        }

        var done = await s.GetSession(session);
        Assert.Equal(SessionState.Completed, done.State);
        Assert.Equal(
            [SessionState.Queued, SessionState.Offered, SessionState.Connected, SessionState.WrapUp, SessionState.Completed],
            done.History.Select(h => h.State).ToArray());
        Assert.Empty((await s.GetAgent(agent)).Sessions);
        Assert.True(Drops() - dropsBefore >= 5, $"dropped {Drops() - dropsBefore}");

        // Once the streams accept again, events flow: the next session's follower hears it queued.
        var next = s.Id("s2");
        var events = new Recorder<SessionUpdate>();
        var subscription = await fx.Cluster.Client.GetStreamProvider(RoutingStreams.Provider)
            .GetStream<SessionUpdate>(StreamId.Create(RoutingStreams.SessionNamespace, next)).SubscribeAsync(events.OnNext);
        await fx.Agent(agent).SetStateAsync(AgentState.NotReady, "break");
        await s.SessionAsync("s2", queue);
        await events.WaitFor(u => u.Type == SessionEventType.Queued);
        await subscription.UnsubscribeAsync();
    }

    private long Drops() => fx.Cluster.Silos.Sum(silo => silo.ServiceProvider.GetRequiredService<RoutingCluster.Grains.Infrastructure.EventDrops>().Total);

    private sealed class Recorder<T>
    {
        private readonly Mailbox<T> _mailbox = new();

        public IReadOnlyList<T> Items => _mailbox.Items;

        public Task OnNext(T item, StreamSequenceToken? token)
        {
            _mailbox.Add(item);
            return Task.CompletedTask;
        }

        public Task<T> WaitFor(Func<T, bool> predicate) => _mailbox.WaitFor(predicate);
    }
}
