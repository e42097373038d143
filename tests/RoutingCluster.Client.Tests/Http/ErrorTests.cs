using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Http;

/// <summary>Refusals reach the caller as a typed <see cref="RoutingApiException"/> with the problem details.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class ErrorTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task CreateSession_WithInvalidFields_ThrowsValidationProblem_NamingEachField()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings());

        var error = await Assert.ThrowsAsync<RoutingApiException>(() => client.CreateSessionAsync(new CreateSessionRequest
        {
            QueueId = queueId,
            Channel = Channel.Voice,
            Customer = new Customer { Id = "c-2", Age = 200 },
            Skills = new Dictionary<string, int> { ["cards"] = 7 },
        }));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.True(error.IsValidationProblem);
        Assert.Equal(["Must be between 0 and 150."], error.FieldErrors["customer.age"]);
        Assert.Equal(["Must be between 1 and 5."], error.FieldErrors["skills.cards"]);
        Assert.Equal(400, error.Problem!.Status);
        Assert.NotNull(error.Title);
        Assert.Contains("customer.age", error.Message, StringComparison.Ordinal);
        Assert.Equal("/v1/sessions", error.Path);
    }

    [Fact]
    public async Task PutQueue_WithInvalidSettings_ThrowsValidationProblem_WithThePathOfEachField()
    {
        using var client = host.CreateRoutingClient();

        var error = await Assert.ThrowsAsync<RoutingApiException>(() => client.PutQueueAsync(Ids.New("q"), new QueueSettings
        {
            OfferTimeoutSeconds = 0,
            HeadStart = new Dictionary<Segment, HeadStart> { [Segment.Elderly] = HeadStart.OfSeconds(-1) },
            Relaxation = [new RelaxationStep(30, 9)],
        }));

        Assert.True(error.IsValidationProblem);
        Assert.Contains("offerTimeoutSeconds", error.FieldErrors.Keys);
        Assert.Contains("headStart.elderly", error.FieldErrors.Keys);
        Assert.Contains("relaxation[0].lowerBy", error.FieldErrors.Keys);
    }

    [Fact]
    public async Task CreateSession_ForAnUnknownQueue_ThrowsValidationProblem_NamingQueueId()
    {
        using var client = host.CreateRoutingClient();

        var error = await Assert.ThrowsAsync<RoutingApiException>(() => client.CreateSessionAsync(GatewayFlowTests.NewSession(Ids.New("q"))));

        Assert.True(error.IsValidationProblem);
        Assert.Contains("does not exist", Assert.Single(error.FieldErrors["queueId"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownSessionAndAgent_Throw404_WithTheDetail()
    {
        using var client = host.CreateRoutingClient();

        var session = await Assert.ThrowsAsync<RoutingApiException>(() => client.GetSessionAsync("s-unknown"));
        var agent = await Assert.ThrowsAsync<RoutingApiException>(() => client.GetAgentAsync(Ids.New("a")));

        Assert.True(session.IsNotFound);
        Assert.Equal("Session 's-unknown' does not exist.", session.Detail);
        Assert.Empty(session.FieldErrors);
        Assert.True(agent.IsNotFound);
    }

    [Fact]
    public async Task Accept_WithoutAPendingOffer_Throws409_AndChangesNothing()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        await client.PutQueueAsync(queueId, new QueueSettings());
        await client.PutAgentAsync(agentId, new AgentProfile { Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        var session = (await client.CreateSessionAsync(GatewayFlowTests.NewSession(queueId))).Session.Id;

        var error = await Assert.ThrowsAsync<RoutingApiException>(() => client.AcceptAsync(agentId, session));

        Assert.True(error.IsConflict);
        Assert.Contains("no pending offer", error.Detail, StringComparison.Ordinal);
        Assert.Equal(SessionState.Queued, (await client.GetSessionAsync(session)).State);
    }
}
