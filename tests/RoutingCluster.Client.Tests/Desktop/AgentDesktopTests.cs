using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Desktop;

/// <summary>An agent desktop on the agent hub through <see cref="AgentDesktopClient"/>, against the real host.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class AgentDesktopTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task Desktop_SignsIn_ReceivesTheOfferOfAnElderlyCustomer_Accepts_AndTheSessionIsConnected()
    {
        using var gateway = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        await gateway.PutQueueAsync(queueId, new QueueSettings());
        await gateway.PutAgentAsync(agentId, new AgentProfile { Name = "Li Wei", Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        await using var desktop = new AgentDesktopClient(host.BaseAddress, TestTokenSources.Desktop());
        var offers = new TaskCompletionSource<(OfferNotice Offer, AgentView Agent)>(TaskCreationOptions.RunContinuationsAsynchronously);
        desktop.OfferReceived += (offer, agent) =>
        {
            offers.TrySetResult((offer, agent));
            return Task.CompletedTask;
        };

        var signedIn = await desktop.SignInAsync(agentId);
        var ready = await desktop.SetStateAsync(AgentState.Ready);
        var created = await gateway.CreateSessionAsync(GatewayFlowTests.NewSession(queueId, age: 72));
        var (offer, agentAtOffer) = await offers.Task.WaitAsync(Deadline.Default);
        var accepted = await desktop.AcceptAsync(offer.SessionId);

        Assert.Equal(agentId, signedIn.Id);
        Assert.Equal(AgentState.LoggedOut, signedIn.State);
        Assert.Equal("Li Wei", signedIn.Name);
        Assert.Equal(new AgentActionResult(true, 200, null), ready);
        Assert.Equal(created.Session.Id, offer.SessionId);
        Assert.Equal([Segment.Elderly], offer.Segments);
        Assert.Equal(Channel.Voice, offer.Channel);
        Assert.Equal(queueId, offer.QueueId);
        Assert.True(offer.ExpiresAt > offer.OfferedAt);
        Assert.Equal(offer.SessionId, Assert.Single(agentAtOffer.Offers).SessionId);
        Assert.True(accepted.Ok);

        var session = await gateway.GetSessionAsync(created.Session.Id);
        Assert.Equal(SessionState.Connected, session.State);
        Assert.Equal(agentId, session.AgentId);
        var agent = await desktop.GetAgentAsync();
        Assert.Equal(HeldState.Connected, Assert.Single(agent!.Sessions).State);
    }

    [Fact]
    public async Task Desktop_ActionThatTheStateDoesNotAllow_Answers409_WithoutThrowing()
    {
        using var gateway = host.CreateRoutingClient();
        var (queueId, agentId) = await GatewayFlowTests.QueueWithReadyAgent(gateway);
        await using var desktop = new AgentDesktopClient(host.BaseAddress, TestTokenSources.Desktop());
        await desktop.SignInAsync(agentId);

        var result = await desktop.AcceptAsync("s-0000000000000000000000000000dead");

        Assert.False(result.Ok);
        Assert.Equal(409, result.Status);
        Assert.NotNull(result.Detail);
        Assert.Equal(queueId, Assert.Single((await desktop.GetAgentAsync())!.Queues));
    }

    [Fact]
    public async Task Desktop_SigningInAsAnUnknownAgent_Throws()
    {
        await using var desktop = new AgentDesktopClient(host.BaseAddress, TestTokenSources.Desktop());

        var error = await Assert.ThrowsAsync<HubException>(() => desktop.SignInAsync(Ids.New("a")));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Desktop_AfterTheConnectionDrops_ReconnectsAndSignsInAgain_AndStillReceivesOffers()
    {
        using var gateway = host.CreateRoutingClient();
        var (queueId, agentId) = await GatewayFlowTests.QueueWithReadyAgent(gateway);

        // WebSockets only, opened here, so the test can break the live one as a network failure would.
        var sockets = new ConcurrentQueue<ClientWebSocket>();
        await using var desktop = new AgentDesktopClient(host.BaseAddress, new AgentDesktopOptions
        {
            AccessTokens = TestTokenSources.Agents,
            ReconnectPolicy = new QuickRetries(),
            ConfigureConnection = http =>
            {
                http.Transports = HttpTransportType.WebSockets;
                http.SkipNegotiation = true;
                http.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var socket = new ClientWebSocket();

                    // As SignalR's own socket factory does: the connection's token in the Authorization header.
                    if (context.Options.AccessTokenProvider is { } token)
                    {
                        socket.Options.SetRequestHeader("Authorization", "Bearer " + await token());
                    }

                    await socket.ConnectAsync(context.Uri, cancellationToken);
                    sockets.Enqueue(socket);
                    return socket;
                };
            },
        });
        var reconnecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource<AgentView>(TaskCreationOptions.RunContinuationsAsynchronously);
        var offers = new TaskCompletionSource<OfferNotice>(TaskCreationOptions.RunContinuationsAsynchronously);
        desktop.Reconnecting += _ => { reconnecting.TrySetResult(); return Task.CompletedTask; };
        desktop.Reconnected += agent => { reconnected.TrySetResult(agent); return Task.CompletedTask; };
        desktop.OfferReceived += (offer, _) => { offers.TrySetResult(offer); return Task.CompletedTask; };
        await desktop.SignInAsync(agentId);

        Assert.True(sockets.TryPeek(out var first));
        first.Abort();
        await reconnecting.Task.WaitAsync(Deadline.Default);
        var view = await reconnected.Task.WaitAsync(Deadline.Default);
        var created = await gateway.CreateSessionAsync(GatewayFlowTests.NewSession(queueId));
        var offer = await offers.Task.WaitAsync(Deadline.Default);

        Assert.Equal(2, sockets.Count);
        Assert.Equal(HubConnectionState.Connected, desktop.ConnectionState);
        Assert.Equal(agentId, view.Id);
        Assert.Equal(AgentState.Ready, view.State);
        Assert.Equal(created.Session.Id, offer.SessionId);
        Assert.True((await desktop.AcceptAsync(offer.SessionId)).Ok);
    }

    [Fact]
    public async Task Desktop_GivenASiloThatRefusesFirst_ConnectsToTheNextOne_AndReportsTheFailover()
    {
        using var gateway = host.CreateRoutingClient();
        var (_, agentId) = await GatewayFlowTests.QueueWithReadyAgent(gateway);
        var refusing = new Uri($"http://127.0.0.1:{FreePorts.One()}/");
        await using var desktop = new AgentDesktopClient([refusing, host.BaseAddress], TestTokenSources.Desktop());
        var failovers = new TaskCompletionSource<(Uri From, Uri To)>(TaskCreationOptions.RunContinuationsAsynchronously);
        desktop.FailedOver += (from, to) => { failovers.TrySetResult((from, to)); return Task.CompletedTask; };
        Assert.Null(desktop.CurrentAddress);

        var view = await desktop.SignInAsync(agentId);

        Assert.Equal(agentId, view.Id);
        Assert.Equal(host.BaseAddress, desktop.CurrentAddress);
        Assert.Equal((refusing, host.BaseAddress), await failovers.Task.WaitAsync(Deadline.Default));
        Assert.Equal([refusing, host.BaseAddress], desktop.BaseAddresses);
    }

    [Fact]
    public async Task Desktop_GivenOneSilo_IsOnIt_AndReportsNoFailover()
    {
        using var gateway = host.CreateRoutingClient();
        var (_, agentId) = await GatewayFlowTests.QueueWithReadyAgent(gateway);
        await using var desktop = new AgentDesktopClient(host.BaseAddress, TestTokenSources.Desktop());
        var failovers = 0;
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        desktop.FailedOver += (_, _) => { Interlocked.Increment(ref failovers); return Task.CompletedTask; };
        desktop.AgentChanged += _ => { changed.TrySetResult(); return Task.CompletedTask; };

        await desktop.SignInAsync(agentId);
        await desktop.SetStateAsync(AgentState.NotReady, "break");

        // Events are raised in order: a failover on connecting would have come before this change.
        await changed.Task.WaitAsync(Deadline.Default);

        Assert.Equal(host.BaseAddress, desktop.CurrentAddress);
        Assert.Equal([host.BaseAddress], desktop.BaseAddresses);
        Assert.Equal(0, Volatile.Read(ref failovers));
    }

    private sealed class QuickRetries : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => TimeSpan.FromMilliseconds(50);
    }
}
