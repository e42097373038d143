using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>Creating sessions (idempotency, full queues), abandoning and transferring them.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class SessionTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Session_CreatedOverHttp_ReadsBackFromStorage_AfterItsGrainWasCollected()
    {
        var queue = await _api.PutQueue(HostApi.NewId("reload"));
        var created = await _api.Post("/v1/sessions", Body(queue));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Json!.Str("id");

        // Every idle activation goes; the next call reactivates the session from the grain storage.
        await host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var again = (await _api.Get($"/v1/sessions/{id}")).Ok();
        Assert.Equal("queued", again.Str("state"));
        Assert.Equal(["vip"], again["segments"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    private static string Body(string queue, string customer = "c-9") =>
        $$"""{ "queueId": "{{queue}}", "channel": "chat", "customer": { "id": "{{customer}}", "segments": [ "vip" ] }, "skills": { "cards": 2 }, "attributes": { "ivr": "loss" } }""";

    [Fact]
    public async Task Create_TwiceWithTheSameIdempotencyKey_AnswersTheSameSession_AndCreatesOne()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var key = Guid.NewGuid().ToString();

        var first = await _api.Post("/v1/sessions", Body(queue), key);
        var second = await _api.Post("/v1/sessions", Body(queue), key);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        var id = first.Json!.Str("id");
        Assert.Equal(id, second.Json!.Str("id"));
        Assert.Equal(SessionsApi.SessionIdForKey(TestTokens.Gateway, key), id);
        Assert.Equal(first.Json!.Str("createdAt"), second.Json!.Str("createdAt"));

        // One session: queued once, and an agent with room for three chats is offered exactly one.
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        var ready = await _api.SetState(agent, "ready");
        Assert.Equal(id, Assert.Single(ready.Arr("offers"))!.Str("sessionId"));
        Assert.Single((await _api.Get($"/v1/sessions/{id}")).Ok().Arr("history"), h => h!.Str("state") == "queued");
    }

    [Fact]
    public async Task Create_WithAReusedIdempotencyKeyAndAnotherBody_Answers409()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var key = Guid.NewGuid().ToString();
        var created = await _api.Post("/v1/sessions", Body(queue, "c-1"), key);

        var reply = await _api.Post("/v1/sessions", Body(queue, "c-2"), key);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(Problems.IdempotencyKeyReusedType, reply.Problem(HttpStatusCode.Conflict).Str("type"));
    }

    [Fact]
    public async Task Create_WithoutIdempotencyKey_CreatesANewSessionEachTime()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));

        var first = await _api.Post("/v1/sessions", Body(queue));
        var second = await _api.Post("/v1/sessions", Body(queue));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.NotEqual(first.Json!.Str("id"), second.Json!.Str("id"));
        Assert.StartsWith("s-", first.Json!.Str("id"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_InAFullQueue_Answers409QueueFull_AndTheSessionIsRefused()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"), """{ "maxWaiting": 1 }""");
        await _api.CreateSession(queue);
        var key = Guid.NewGuid().ToString();

        var reply = await _api.Post("/v1/sessions", Body(queue), key);

        var problem = reply.Problem(HttpStatusCode.Conflict);
        Assert.Equal(Problems.QueueFullType, problem.Str("type"));
        Assert.Equal(SessionsApi.SessionIdForKey(TestTokens.Gateway, key), problem.Str("sessionId"));
        Assert.Equal("refused", (await _api.Get($"/v1/sessions/{problem.Str("sessionId")}")).Ok().Str("state"));
    }

    [Fact]
    public async Task Get_ShowsTheContractFields_WithUtcTimes()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var created = await _api.Post("/v1/sessions", Body(queue));

        var session = (await _api.Get($"/v1/sessions/{created.Json!.Str("id")}")).Ok();

        foreach (var field in new[] { "id", "state", "queueId", "channel", "agentId", "segments", "createdAt", "offeredAt", "answeredAt", "endedAt", "completedAt", "explanation" })
        {
            Assert.True(session.AsObject().ContainsKey(field), $"missing {field}");
        }

        Assert.Equal("chat", session.Str("channel"));
        Assert.Equal(["vip"], session.Arr("segments").Select(s => s!.GetValue<string>()));
        Assert.EndsWith("Z", session.Str("createdAt"), StringComparison.Ordinal);
        Assert.False(session.AsObject().ContainsKey("customer")); // customer data stays inside the cluster
    }

    [Fact]
    public async Task Abandon_AQueuedSession_EndsIt_AndASecondAbandonAnswers409()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var session = await _api.CreateSession(queue);

        var abandoned = (await _api.Post($"/v1/sessions/{session}/abandon")).Ok();
        var again = await _api.Post($"/v1/sessions/{session}/abandon");

        Assert.Equal("abandoned", abandoned.Str("state"));
        Assert.NotNull(abandoned.StrOrNull("endedAt"));
        again.Problem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Abandon_AnOfferedSession_WithdrawsTheOffer()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        var session = await _api.CreateSession(queue);
        await _api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");

        (await _api.Post($"/v1/sessions/{session}/abandon")).Ok();

        await _api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 0);
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Problem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Transfer_ToAnAgent_OffersTheSessionToThatAgent_AndTheFirstGoesToWrapUp()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var first = HostApi.NewId("a");
        var second = HostApi.NewId("a");
        await _api.PutAgent(first, queue);
        await _api.PutAgent(second, queue);
        await _api.SetState(first, "ready");
        var session = await _api.CreateSession(queue);
        await _api.PollUntil($"/v1/sessions/{session}", s => s.StrOrNull("agentId") == first);
        (await _api.Post($"/v1/agents/{first}/offers/{session}/accept")).Ok();
        await _api.SetState(second, "ready");

        var transferred = (await _api.Post($"/v1/sessions/{session}/transfer", $$"""{ "agentId": "{{second}}" }""")).Ok();

        Assert.Equal(second, transferred.StrOrNull("preferredAgentId"));
        var offered = await _api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");
        Assert.Equal(second, offered.Str("agentId"));
        Assert.True(offered["explanation"]!["preferredAgent"]!.GetValue<bool>());
        await _api.PollUntil($"/v1/agents/{first}", a => a.Arr("sessions").All(h => h!.Str("state") == "wrap-up"));
    }

    [Fact]
    public async Task Transfer_ToAQueue_QueuesTheSessionThere()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var target = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        var session = await _api.CreateSession(queue);
        await _api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Ok();

        var transferred = (await _api.Post($"/v1/sessions/{session}/transfer", $$"""{ "queueId": "{{target}}" }""")).Ok();

        Assert.Equal("queued", transferred.Str("state"));
        Assert.Equal(target, transferred.Str("queueId"));
    }

    [Fact]
    public async Task Transfer_OfASessionThatIsNotConnected_Answers409()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var target = await _api.PutQueue(HostApi.NewId("q"));
        var session = await _api.CreateSession(queue);

        var reply = await _api.Post($"/v1/sessions/{session}/transfer", $$"""{ "queueId": "{{target}}" }""");

        reply.Problem(HttpStatusCode.Conflict);
        Assert.Equal(queue, (await _api.Get($"/v1/sessions/{session}")).Ok().Str("queueId"));
    }
}
