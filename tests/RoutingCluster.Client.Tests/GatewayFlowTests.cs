using System.Net;
using System.Text.Json;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests;

/// <summary>What a channel gateway and an admin do through <see cref="RoutingClient"/>, against the real host.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class GatewayFlowTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task Gateway_SetsUpQueueAndAgent_CreatesSession_AndReadsItOfferedWithItsExplanation()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");

        var queue = await client.PutQueueAsync(queueId, new QueueSettings
        {
            Name = "Cards",
            HeadStart = new Dictionary<Segment, HeadStart> { [Segment.Vip] = HeadStart.Strict },
            Relaxation = [new RelaxationStep(30, 1)],
        });
        var agent = await client.PutAgentAsync(agentId, new AgentProfile
        {
            Name = "Li Wei",
            Skills = new Dictionary<string, int> { ["cards"] = 4 },
            Queues = [queueId],
            Capacity = new Dictionary<Channel, int> { [Channel.Voice] = 1, [Channel.FiveG] = 2 },
        });
        var ready = await client.SetAgentStateAsync(agentId, AgentState.Ready);
        var created = await client.CreateSessionAsync(new CreateSessionRequest
        {
            QueueId = queueId,
            Channel = Channel.Voice,
            Customer = new Customer { Id = "c-9", Age = 72 },
            Skills = new Dictionary<string, int> { ["cards"] = 2 },
            Attributes = new Dictionary<string, string> { ["ivr"] = "loss" },
        });
        // The offer attempt runs beside the create: read the session until it is offered (at once, but not in the same turn).
        var session = await client.GetSessionAsync(created.Session.Id);
        using (var deadline = new CancellationTokenSource(Deadline.Default))
        {
            while (session.State == SessionState.Queued)
            {
                await Task.Delay(20, deadline.Token);
                session = await client.GetSessionAsync(created.Session.Id);
            }
        }

        Assert.Equal(queueId, queue.Id);
        Assert.Equal(HeadStart.Strict, queue.HeadStart[Segment.Vip]);
        Assert.Equal(HeadStart.OfSeconds(60), queue.HeadStart[Segment.Elderly]);
        Assert.Equal(AgentSelection.LongestIdle, queue.AgentSelection);
        Assert.Equal([new RelaxationStep(30, 1)], queue.Relaxation);
        Assert.Equal(JsonSerializer.Serialize(queue, RoutingJson.Options), JsonSerializer.Serialize(await client.GetQueueAsync(queueId), RoutingJson.Options));
        Assert.Equal(AgentState.LoggedOut, agent.State);
        Assert.Equal(2, agent.Capacity[Channel.FiveG]);
        Assert.Equal(AgentState.Ready, ready.State);

        Assert.False(created.AlreadyExisted);
        Assert.StartsWith("s-", created.Session.Id, StringComparison.Ordinal);
        Assert.Equal(SessionsApi.SessionIdForKey(TestTokens.Gateway, created.IdempotencyKey), created.Session.Id);
        Assert.Equal([Segment.Elderly], created.Session.Segments);

        Assert.Equal(SessionState.Offered, session.State);
        Assert.Equal(agentId, session.AgentId);
        Assert.NotNull(session.OfferExpiresAt);
        var explanation = Assert.IsType<SessionExplanation>(session.Explanation);
        Assert.Equal(agentId, explanation.AgentId);
        Assert.Equal(HeadStart.OfSeconds(60), explanation.HeadStart);
        Assert.Equal(4, explanation.AgentSkills["cards"]);
        Assert.Equal([SessionState.Queued, SessionState.Offered], session.History.Select(h => h.State));

        var offer = Assert.Single((await client.GetAgentAsync(agentId)).Offers);
        Assert.Equal(created.Session.Id, offer.SessionId);
        Assert.Equal(Channel.Voice, offer.Channel);
    }

    [Fact]
    public async Task Agent_AcceptsEndsAndFinishesWrapUp_OverHttp_AndTheSessionCompletes()
    {
        using var client = host.CreateRoutingClient();
        var (queueId, agentId) = await QueueWithReadyAgent(client);
        var session = (await client.CreateSessionAsync(NewSession(queueId))).Session.Id;

        var accepted = await client.AcceptAsync(agentId, session);
        var ended = await client.EndAsync(agentId, session);
        var done = await client.WrapUpDoneAsync(agentId, session);

        Assert.Equal(HeldState.Connected, Assert.Single(accepted.Sessions).State);
        Assert.Equal(HeldState.WrapUp, Assert.Single(ended.Sessions).State);
        Assert.Empty(done.Sessions);
        var completed = await client.GetSessionAsync(session);
        Assert.Equal(SessionState.Completed, completed.State);
        Assert.Equal(
            [SessionState.Queued, SessionState.Offered, SessionState.Connected, SessionState.WrapUp, SessionState.Completed],
            completed.History.Select(h => h.State));
    }

    [Theory]
    [InlineData(Fault.AnswerLost)]
    [InlineData(Fault.ServiceUnavailable)]
    public async Task CreateSession_RetriedAfterTheServerProcessedTheFirstAttempt_ReturnsTheSameSession_AndCreatesOnlyOne(Fault fault)
    {
        var faults = new FaultInjectingHandler(r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath == "/v1/sessions", fault);
        using var client = host.CreateRoutingClient(faults);
        using var plain = host.CreateRoutingClient();

        // Room for two waiting sessions: if the retry had made a second session, the next create would be refused.
        var queueId = Ids.New("q");
        await plain.PutQueueAsync(queueId, new QueueSettings { MaxWaiting = 2 });

        var created = await client.CreateSessionAsync(NewSession(queueId));

        var attempts = faults.Seen.ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a => Assert.Equal(created.IdempotencyKey, a.IdempotencyKey));
        Assert.True(created.AlreadyExisted);
        Assert.Equal(SessionsApi.SessionIdForKey(TestTokens.Gateway, created.IdempotencyKey), created.Session.Id);
        var session = await plain.GetSessionAsync(created.Session.Id);
        Assert.Equal(SessionState.Queued, session.State);
        Assert.Single(session.History);

        var second = await plain.CreateSessionAsync(NewSession(queueId));
        Assert.NotEqual(created.Session.Id, second.Session.Id);
        var full = await Assert.ThrowsAsync<RoutingApiException>(() => plain.CreateSessionAsync(NewSession(queueId)));
        Assert.True(full.IsQueueFull);
        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
    }

    [Fact]
    public async Task CreateSession_WithTheCallersKey_SendsIt_AndTheSameKeyAgainReachesTheSameSession()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings());
        var key = RoutingClient.NewIdempotencyKey();

        var first = await client.CreateSessionAsync(NewSession(queueId), key);
        var again = await client.CreateSessionAsync(NewSession(queueId), key);
        var reused = await Assert.ThrowsAsync<RoutingApiException>(() => client.CreateSessionAsync(NewSession(queueId) with { Channel = Channel.Chat }, key));

        Assert.Equal(key, first.IdempotencyKey);
        Assert.False(first.AlreadyExisted);
        Assert.True(again.AlreadyExisted);
        Assert.Equal(first.Session.Id, again.Session.Id);
        Assert.True(reused.IsIdempotencyKeyReused);
    }

    [Fact]
    public async Task Get_RetriesTransientFailures_UntilItSucceeds()
    {
        var faults = new FaultInjectingHandler(r => r.Method == HttpMethod.Get, Fault.ServiceUnavailable, failures: 2);
        using var client = host.CreateRoutingClient(faults);
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings { Name = "Loans" });

        var queue = await client.GetQueueAsync(queueId);

        Assert.Equal("Loans", queue.Name);
        Assert.Equal(3, faults.Seen.Count);
    }

    [Fact]
    public async Task Accept_IsNotRetried_OnceTheServerMayHaveActed_ButIsWhenTheConnectionWasRefused()
    {
        var lost = new FaultInjectingHandler(r => r.RequestUri!.AbsolutePath.EndsWith("/accept", StringComparison.Ordinal), Fault.AnswerLost);
        using var client = host.CreateRoutingClient(lost);
        var (queueId, agentId) = await QueueWithReadyAgent(client);
        var session = (await client.CreateSessionAsync(NewSession(queueId))).Session.Id;

        await Assert.ThrowsAsync<HttpRequestException>(() => client.AcceptAsync(agentId, session));

        // One attempt only: the server accepted it, and a repeat would have answered 409.
        Assert.Single(lost.Seen);
        Assert.Equal(SessionState.Connected, (await client.GetSessionAsync(session)).State);

        var refused = new FaultInjectingHandler(r => r.RequestUri!.AbsolutePath.EndsWith("/end", StringComparison.Ordinal), Fault.ConnectionRefused);
        using var other = host.CreateRoutingClient(refused);
        var ended = await other.EndAsync(agentId, session);

        Assert.Equal(2, refused.Seen.Count);
        Assert.Equal(HeldState.WrapUp, Assert.Single(ended.Sessions).State);
    }

    internal static CreateSessionRequest NewSession(string queueId, int? age = null) => new()
    {
        QueueId = queueId,
        Channel = Channel.Voice,
        Customer = new Customer { Id = "c-1", Age = age },
        Skills = new Dictionary<string, int> { ["cards"] = 2 },
    };

    internal static async Task<(string QueueId, string AgentId)> QueueWithReadyAgent(RoutingClient client, QueueSettings? settings = null)
    {
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        await client.PutQueueAsync(queueId, settings ?? new QueueSettings());
        await client.PutAgentAsync(agentId, new AgentProfile { Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        await client.SetAgentStateAsync(agentId, AgentState.Ready);
        return (queueId, agentId);
    }
}
