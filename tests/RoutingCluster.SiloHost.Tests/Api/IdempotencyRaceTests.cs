using System.Net;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>A gateway that retries a create many times at once (same Idempotency-Key, same body) gets one session.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class IdempotencyRaceTests(SiloHostFactory host)
{
    private const int Concurrent = 20;

    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Create_ConcurrentlyWithTheSameIdempotencyKey_AnswersOneSession_QueuedOnce()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var key = Guid.NewGuid().ToString();
        var body = $$"""{ "queueId": "{{queue}}", "channel": "chat", "customer": { "id": "c-race", "age": 70 }, "skills": { "cards": 2 } }""";

        // All requests are started first and then leave together.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sends = Enumerable.Range(0, Concurrent).Select(async _ =>
        {
            await start.Task;
            return await _api.Post("/v1/sessions", body, key);
        }).ToList();
        start.SetResult();
        var replies = await Task.WhenAll(sends);

        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)r.Status}: {r.Body}"));
        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        var id = SessionsApi.SessionIdForKey(TestTokens.Gateway, key);
        Assert.All(replies, r => Assert.Equal(id, r.Json!.Str("id")));
        Assert.Single(replies.Select(r => r.Json!.Str("createdAt")).Distinct(StringComparer.Ordinal));

        var session = (await _api.Get($"/v1/sessions/{id}")).Ok();
        Assert.Equal("queued", session.Str("state"));
        Assert.Single(session.Arr("history"), h => h!.Str("state") == "queued");

        // The queue holds that one session: an agent with room for three chats is offered exactly one.
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        var ready = await _api.SetState(agent, "ready");
        Assert.Equal(id, Assert.Single(ready.Arr("offers"))!.Str("sessionId"));
        var offered = await _api.PollUntil($"/v1/sessions/{id}", s => s.Str("state") == "offered");
        Assert.Equal(agent, offered.Str("agentId"));
        Assert.Equal(id, Assert.Single((await _api.Get($"/v1/agents/{agent}")).Ok().Arr("offers"))!.Str("sessionId"));
    }
}
