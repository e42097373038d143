using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests;

/// <summary>A gateway asks for a callback through <see cref="RoutingClient"/>, and the agent is offered it as one.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class CallbackClientTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task Gateway_AsksForACallback_TheSessionShowsIt_AndTheAgentIsOfferedACallback()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        var queue = await client.PutQueueAsync(queueId, new QueueSettings { Name = "Callbacks", CallbackOffer = new CallbackOffer(90) });
        await client.PutAgentAsync(agentId, new AgentProfile { Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        var created = await client.CreateSessionAsync(new CreateSessionRequest
        {
            QueueId = queueId,
            Channel = Channel.Voice,
            Customer = new Customer { Id = "c-cb" },
            Skills = new Dictionary<string, int> { ["cards"] = 2 },
        });

        var session = await client.RequestCallbackAsync(created.Session.Id);
        var ready = await client.SetAgentStateAsync(agentId, AgentState.Ready);

        Assert.Equal(new CallbackOffer(90), queue.CallbackOffer);
        Assert.Equal(SessionState.Queued, session.State);
        var callback = Assert.IsType<SessionCallback>(session.Callback);
        Assert.Null(callback.At);
        var offer = Assert.Single(ready.Offers);
        Assert.Equal((created.Session.Id, OfferKind.Callback), (offer.SessionId, offer.Kind));
        Assert.Null(created.Session.Callback);
    }

    [Fact]
    public async Task Gateway_AsksForAScheduledCallback_ThenASecond_Gets409()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings());
        var created = await client.CreateSessionAsync(new CreateSessionRequest
        {
            QueueId = queueId,
            Channel = Channel.Chat,
            Customer = new Customer { Id = "c-cb2" },
        });
        var at = DateTimeOffset.UtcNow.AddHours(3);

        var session = await client.RequestCallbackAsync(created.Session.Id, at);
        var again = await Assert.ThrowsAsync<RoutingApiException>(() => client.RequestCallbackAsync(created.Session.Id));

        Assert.Equal(at.UtcTicks / TimeSpan.TicksPerMillisecond, session.Callback!.At!.Value.UtcTicks / TimeSpan.TicksPerMillisecond);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Gateway_FollowingACallback_HearsItOfferedAsACallback_AndTheSameRequestAgainIsSafe()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        await client.PutQueueAsync(queueId, new QueueSettings());
        await client.PutAgentAsync(agentId, new AgentProfile { Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        var session = (await client.CreateSessionAsync(GatewayFlowTests.NewSession(queueId, age: 80))).Session.Id;
        var first = await client.RequestCallbackAsync(session);
        var again = await client.RequestCallbackAsync(session);

        using var deadline = new CancellationTokenSource(Deadline.Default);
        SessionEvent? offered = null;
        var ready = false;
        await foreach (var e in client.FollowSessionAsync(session, deadline.Token))
        {
            if (!ready)
            {
                ready = true;
                await client.SetAgentStateAsync(agentId, AgentState.Ready);
            }

            if (e.Update?.Type == SessionEventType.Offered)
            {
                offered = e;
                break;
            }
        }

        Assert.Equal(first.Callback, again.Callback);
        Assert.Equal(OfferKind.Callback, offered!.Update!.Kind);
        Assert.Null(offered.Update.CallbackProposed);
    }
}
