using System.Net;
using System.Text;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>Bad input answers 400 problem details naming the field, and creates or changes nothing.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class ValidationTests(SiloHostFactory host)
{
    private const string Customer = """ "customer": { "id": "c-1" } """;

    private readonly HostApi _api = new(host.CreateClient());

    public static TheoryData<string, string> InvalidSessions => new()
    {
        { $$"""{ "channel": "voice", {{Customer}} }""", "queueId" },
        { $$"""{ "queueId": "", "channel": "voice", {{Customer}} }""", "queueId" },
        { $$"""{ "queueId": "{{new string('q', 129)}}", "channel": "voice", {{Customer}} }""", "queueId" },
        { $$"""{ "queueId": "no such queue", "channel": "voice", {{Customer}} }""", "queueId" },
        { $$"""{ "queueId": "q-does-not-exist", "channel": "voice", {{Customer}} }""", "queueId" },
        { $$"""{ "queueId": "{queue}", {{Customer}} }""", "channel" },
        { $$"""{ "queueId": "{queue}", "channel": "fax", {{Customer}} }""", "channel" },
        { $$"""{ "queueId": "{queue}", "channel": "Voice", {{Customer}} }""", "channel" },
        { $$"""{ "queueId": "{queue}", "channel": 0, {{Customer}} }""", "channel" },
        { """{ "queueId": "{queue}", "channel": "voice" }""", "customer" },
        { """{ "queueId": "{queue}", "channel": "voice", "customer": "c-1" }""", "customer" },
        { """{ "queueId": "{queue}", "channel": "voice", "customer": { "age": 30 } }""", "customer.id" },
        { """{ "queueId": "{queue}", "channel": "voice", "customer": { "id": "c-1", "age": 151 } }""", "customer.age" },
        { """{ "queueId": "{queue}", "channel": "voice", "customer": { "id": "c-1", "age": -1 } }""", "customer.age" },
        { """{ "queueId": "{queue}", "channel": "voice", "customer": { "id": "c-1", "age": "72" } }""", "customer.age" },
        { """{ "queueId": "{queue}", "channel": "voice", "customer": { "id": "c-1", "segments": [ "kids" ] } }""", "customer.segments[0]" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "skills": { "cards": 6 } }""", "skills.cards" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "skills": { "cards": 0 } }""", "skills.cards" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "skills": { "cards": 2.5 } }""", "skills.cards" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "skills": [ "cards" ] }""", "skills" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "preferredAgentId": "agent 7" }""", "preferredAgentId" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "preferredAgentWaitSeconds": -1 }""", "preferredAgentWaitSeconds" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "preferredAgentWaitSeconds": "NaN" }""", "preferredAgentWaitSeconds" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "attributes": { "ivr": 5 } }""", "attributes.ivr" },
        { $$"""{ "queueId": "{queue}", "channel": "voice", {{Customer}}, "priority": 1 }""", "priority" },
        { """{ "queueId": "{queue}", "channel": "voice", """, "body" },
        { """[ "{queue}" ]""", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidSessions))]
    public async Task CreateSession_WithInvalidBody_Answers400NamingTheField_AndCreatesNothing(string body, string field)
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var key = Guid.NewGuid().ToString();

        var reply = await _api.Post("/v1/sessions", body.Replace("{queue}", queue, StringComparison.Ordinal), key);

        reply.ValidationProblem(field);
        (await _api.Get($"/v1/sessions/{SessionsApi.SessionIdForKey(TestTokens.Gateway, key)}")).Problem(HttpStatusCode.NotFound);
    }

    public static TheoryData<string, string> InvalidAgents => new()
    {
        { """{ "skills": { "cards": 6 } }""", "skills.cards" },
        { """{ "skills": { "cards": "high" } }""", "skills.cards" },
        { """{ "skills": { "cards and loans": 3 } }""", "skills.cards and loans" },
        { """{ "capacity": { "voice": 101 } }""", "capacity.voice" },
        { """{ "capacity": { "chat": -1 } }""", "capacity.chat" },
        { """{ "capacity": { "fax": 1 } }""", "capacity.fax" },
        { """{ "queues": [ "cards", "bad/id" ] }""", "queues[1]" },
        { """{ "queues": "cards" }""", "queues" },
        { $$"""{ "name": "{{new string('n', 201)}}" }""", "name" },
        { """{ "name": 17 }""", "name" },
        { """{ "team": "blue" }""", "team" },
        { "{ not json", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidAgents))]
    public async Task PutAgent_WithInvalidBody_Answers400NamingTheField_AndCreatesNothing(string body, string field)
    {
        var agent = HostApi.NewId("a");

        var reply = await _api.Put($"/v1/agents/{agent}", body);

        reply.ValidationProblem(field);
        (await _api.Get($"/v1/agents/{agent}")).Problem(HttpStatusCode.NotFound);
    }

    public static TheoryData<string, string> InvalidStates => new()
    {
        { """{ "state": "busy" }""", "state" },
        { """{ "state": "NotReady" }""", "state" },
        { """{ "state": 2 }""", "state" },
        { """{ "reason": "break" }""", "state" },
        { """{ "state": "not-ready", "reason": "coffee break!" }""", "reason" },
    };

    [Theory]
    [MemberData(nameof(InvalidStates))]
    public async Task SetAgentState_WithInvalidBody_Answers400_AndLeavesTheAgentAsItWas(string body, string field)
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);

        var reply = await _api.Post($"/v1/agents/{agent}/state", body);

        reply.ValidationProblem(field);
        Assert.Equal("logged-out", (await _api.Get($"/v1/agents/{agent}")).Ok().Str("state"));
    }

    public static TheoryData<string, string> InvalidQueues => new()
    {
        { """{ "headStart": { "elderly": "soon" } }""", "headStart.elderly" },
        { """{ "headStart": { "elderly": -5 } }""", "headStart.elderly" },
        { """{ "headStart": { "kids": 5 } }""", "headStart.kids" },
        { """{ "agentSelection": "random" }""", "agentSelection" },
        { """{ "serviceLevelSeconds": "20" }""", "serviceLevelSeconds" },
        { """{ "offerTimeoutSeconds": 0 }""", "offerTimeoutSeconds" },
        { """{ "offerTimeoutSeconds": "NaN" }""", "offerTimeoutSeconds" },
        { """{ "wrapUpSeconds": -1 }""", "wrapUpSeconds" },
        { """{ "elderlyAge": 151 }""", "elderlyAge" },
        { """{ "relaxation": [ { "afterSeconds": -1, "lowerBy": 1 } ] }""", "relaxation[0].afterSeconds" },
        { """{ "relaxation": [ { "afterSeconds": 30 } ] }""", "relaxation[0].lowerBy" },
        { """{ "relaxation": { "afterSeconds": 30, "lowerBy": 1 } }""", "relaxation" },
        { """{ "maxWaiting": 0 }""", "maxWaiting" },
        { """{ "maxWaitSeconds": 1e7 }""", "maxWaitSeconds" },
        { """{ "overflowQueueId": "over flow" }""", "overflowQueueId" },
        { """{ "overflowQueueId": "{queue}" }""", "overflowQueueId" },
    };

    [Theory]
    [MemberData(nameof(InvalidQueues))]
    public async Task PutQueue_WithInvalidBody_Answers400NamingTheField_AndCreatesNothing(string body, string field)
    {
        var queue = HostApi.NewId("q");

        var reply = await _api.Put($"/v1/queues/{queue}", body.Replace("{queue}", queue, StringComparison.Ordinal));

        reply.ValidationProblem(field);
        (await _api.Get($"/v1/queues/{queue}")).Problem(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/v1/queues/bad%20id")]
    [InlineData("/v1/queues/bad%2Fid")]
    [InlineData("/v1/agents/{long}")]
    public async Task Put_WithInvalidIdInRoute_Answers400NamingId(string path)
    {
        var reply = await _api.Put(path.Replace("{long}", new string('a', 129), StringComparison.Ordinal), "{}");

        reply.ValidationProblem("id");
    }

    [Fact]
    public async Task CreateSession_WithBodyOver64KiB_Answers413_AndCreatesNothing()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var key = Guid.NewGuid().ToString();
        var padding = new string('x', 70 * 1024);
        var body = $$"""{ "queueId": "{{queue}}", "channel": "voice", {{Customer}}, "attributes": { "pad": "{{padding}}" } }""";

        var reply = await _api.Post("/v1/sessions", body, key);

        reply.Problem(HttpStatusCode.RequestEntityTooLarge);
        (await _api.Get($"/v1/sessions/{SessionsApi.SessionIdForKey(TestTokens.Gateway, key)}")).Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CreateSession_WithoutJsonContentType_Answers415()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        using var content = new StringContent($$"""{ "queueId": "{{queue}}", "channel": "voice", {{Customer}} }""", Encoding.UTF8, "text/plain");

        using var response = await _api.Http.PostAsync("/v1/sessions", content);

        (await Reply.Read(response)).Problem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task CreateSession_WithoutBody_Answers400()
    {
        (await _api.Post("/v1/sessions", json: null)).ValidationProblem("body");
    }

    [Fact]
    public async Task CreateSession_WithBlankIdempotencyKey_Answers400NamingTheHeader()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));

        var reply = await _api.Post("/v1/sessions", $$"""{ "queueId": "{{queue}}", "channel": "voice", {{Customer}} }""", idempotencyKey: " ");

        reply.ValidationProblem("Idempotency-Key");
    }

    [Theory]
    [InlineData("{}", "queueId")]
    [InlineData("""{ "queueId": "q-does-not-exist" }""", "queueId")]
    [InlineData("""{ "agentId": "a-does-not-exist" }""", "agentId")]
    [InlineData("""{ "agentId": "{other}" }""", "agentId")]
    [InlineData("""{ "queueId": "{queue}", "agentId": "{other}" }""", "agentId")]
    [InlineData("""{ "queueId": "bad id" }""", "queueId")]
    public async Task Transfer_WithInvalidTarget_Answers400_AndTheSessionStaysConnected(string body, string field)
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var otherQueue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        var other = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.PutAgent(other, otherQueue);
        var session = await _api.CreateSession(queue);
        await _api.SetState(agent, "ready");
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Ok();
        body = body.Replace("{queue}", queue, StringComparison.Ordinal).Replace("{other}", other, StringComparison.Ordinal);

        var reply = await _api.Post($"/v1/sessions/{session}/transfer", body);

        reply.ValidationProblem(field);
        var after = (await _api.Get($"/v1/sessions/{session}")).Ok();
        Assert.Equal("connected", after.Str("state"));
        Assert.Equal(agent, after.Str("agentId"));
    }
}
