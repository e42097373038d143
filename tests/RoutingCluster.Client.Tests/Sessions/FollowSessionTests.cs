using System.Threading.Channels;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Sessions;

/// <summary>A gateway follows its session's server-sent events through <see cref="RoutingClient.FollowSessionAsync"/>.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class FollowSessionTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task FollowSession_OverAFullLifecycle_YieldsStateOfferedConnectedEndedCompleted_InOrder_ThenEnds()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        await client.PutQueueAsync(queueId, new QueueSettings());
        await client.PutAgentAsync(agentId, new AgentProfile { Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        var session = (await client.CreateSessionAsync(GatewayFlowTests.NewSession(queueId, age: 80))).Session.Id;

        using var deadline = new CancellationTokenSource(Deadline.Default);
        var events = System.Threading.Channels.Channel.CreateUnbounded<SessionEvent>();
        var following = Task.Run(async () =>
        {
            await foreach (var e in client.FollowSessionAsync(session, deadline.Token))
            {
                await events.Writer.WriteAsync(e, deadline.Token);
            }

            events.Writer.Complete();
        });

        // The first event is the session as it is; only then drive it through its life.
        var state = await events.Reader.ReadAsync(deadline.Token);
        await client.SetAgentStateAsync(agentId, AgentState.Ready);
        var offered = await NextUpdate(events.Reader, deadline.Token);
        await client.AcceptAsync(agentId, session);
        var connected = await NextUpdate(events.Reader, deadline.Token);
        await client.EndAsync(agentId, session);
        var ended = await NextUpdate(events.Reader, deadline.Token);
        await client.WrapUpDoneAsync(agentId, session);
        var completed = await NextUpdate(events.Reader, deadline.Token);
        await following.WaitAsync(deadline.Token);

        Assert.Equal(SessionEvent.StateEventName, state.Name);
        Assert.Equal(SessionState.Queued, state.Snapshot!.State);
        Assert.Equal([Segment.Elderly], state.Snapshot.Segments);
        Assert.Equal(
            ["offered", "connected", "ended", "completed"],
            new[] { offered, connected, ended, completed }.Select(e => e.Name));
        Assert.Equal(
            [SessionEventType.Offered, SessionEventType.Connected, SessionEventType.Ended, SessionEventType.Completed],
            new[] { offered, connected, ended, completed }.Select(e => e.Update!.Type));
        Assert.Equal(
            [SessionState.Offered, SessionState.Connected, SessionState.WrapUp, SessionState.Completed],
            new[] { offered, connected, ended, completed }.Select(e => e.State!.Value));
        Assert.All(new[] { offered, connected, ended, completed }, e => Assert.Equal(agentId, e.Update!.AgentId));
        Assert.True(completed.IsTerminal);

        // The sequence ended by itself after the terminal event: nothing else was yielded.
        Assert.False(await events.Reader.WaitToReadAsync(deadline.Token));
    }

    [Fact]
    public async Task FollowSession_OfAFinishedSession_YieldsOnlyItsState()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings());
        var session = (await client.CreateSessionAsync(GatewayFlowTests.NewSession(queueId))).Session.Id;
        var abandoned = await client.AbandonAsync(session);
        using var deadline = new CancellationTokenSource(Deadline.Default);

        var events = new List<SessionEvent>();
        await foreach (var e in client.FollowSessionAsync(session, deadline.Token))
        {
            events.Add(e);
        }

        Assert.Equal(SessionState.Abandoned, abandoned.State);
        var only = Assert.Single(events);
        Assert.Equal(SessionEvent.StateEventName, only.Name);
        Assert.Equal(SessionState.Abandoned, only.Snapshot!.State);
    }

    [Fact]
    public async Task FollowSession_OfAnUnknownSession_Throws404()
    {
        using var client = host.CreateRoutingClient();

        var error = await Assert.ThrowsAsync<RoutingApiException>(async () =>
        {
            await foreach (var _ in client.FollowSessionAsync("s-unknown"))
            {
            }
        });

        Assert.True(error.IsNotFound);
    }

    /// <summary>The next update, past position events (progress notices, not lifecycle steps).</summary>
    private static async Task<SessionEvent> NextUpdate(ChannelReader<SessionEvent> events, CancellationToken cancellationToken)
    {
        while (true)
        {
            var e = await events.ReadAsync(cancellationToken);
            if (e.Update?.Type != SessionEventType.Position)
            {
                return e;
            }
        }
    }
}
