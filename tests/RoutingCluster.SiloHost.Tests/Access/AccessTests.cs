using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Access;

/// <summary>
/// Who may do what (the contract's "Access" table): 401 without a valid token, 403 naming what is missing, and a
/// refused request changes nothing; sessions and idempotency keys belong to their gateway.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class AccessTests(SiloHostFactory host)
{
    private readonly HostApi _admin = new(host.CreateClient());
    private readonly HttpClient _anonymous = host.CreateAnonymousClient();

    [Fact]
    public async Task AgentA1sToken_AcceptingA2sOffer_Answers403_AndTheOfferIsStillPending()
    {
        var (queue, a1) = await QueueWithReadyAgent();
        var a2 = HostApi.NewId("a");
        await _admin.PutAgent(a2, queue);
        await _admin.SetState(a1, "not-ready", "break");
        await _admin.SetState(a2, "ready");
        var session = await _admin.CreateSession(queue);
        await _admin.PollUntil($"/v1/agents/{a2}", a => a.Arr("offers").Count == 1);

        var reply = await Send(TestTokens.Agent(a1), HttpMethod.Post, $"/v1/agents/{a2}/offers/{session}/accept");

        var problem = reply.Problem(HttpStatusCode.Forbidden);
        Assert.Equal($"acts for agent {a1}, not {a2}", problem.Str("detail"));
        var offers = (await _admin.Get($"/v1/agents/{a2}")).Ok().Arr("offers");
        Assert.Equal(session, Assert.Single(offers)!.Str("sessionId"));
        Assert.Equal("offered", (await _admin.Get($"/v1/sessions/{session}")).Ok().Str("state"));
    }

    [Fact]
    public async Task NoToken_Answers401_WithWwwAuthenticateBearer_AsProblemDetails()
    {
        var reply = await Send(null, HttpMethod.Get, "/v1/stats");

        reply.Problem(HttpStatusCode.Unauthorized);
        Assert.StartsWith("Bearer", reply.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredToken_Answers401_WithWwwAuthenticate_NeverEchoingTheToken()
    {
        var now = DateTimeOffset.UtcNow;
        var expired = TestTokens.Between("sup-1", [Roles.Supervisor], now.AddHours(-2), now.AddMinutes(-5));

        var reply = await Send(expired, HttpMethod.Get, "/v1/stats");

        var problem = reply.Problem(HttpStatusCode.Unauthorized);
        var challenge = reply.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer", challenge, StringComparison.Ordinal);
        Assert.Contains("invalid_token", challenge, StringComparison.Ordinal);
        Assert.Contains("expired", problem.Str("detail"), StringComparison.Ordinal);
        Assert.DoesNotContain(expired, reply.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(expired, challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenSignedWithAnotherKey_Answers401()
    {
        var other = new DevTokenIssuer(new SymmetricSecurityKey(new byte[32]), TimeProvider.System);
        var token = other.Issue("adm-1", [Roles.Admin], null, null, TimeSpan.FromHours(1)).AccessToken;

        var reply = await Send(token, HttpMethod.Put, $"/v1/queues/{HostApi.NewId("q")}", "{}");

        reply.Problem(HttpStatusCode.Unauthorized);
        Assert.StartsWith("Bearer", reply.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsignedToken_AlgNone_Answers401_AndChangesNothing()
    {
        var queue = HostApi.NewId("q");
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64Url($$"""{"sub":"adm-1","roles":["admin"],"iss":"{{DevTokenIssuer.Issuer}}","aud":"{{DevTokenIssuer.Audience}}","exp":{{exp}}}""");

        var reply = await Send($"{header}.{payload}.", HttpMethod.Put, $"/v1/queues/{queue}", "{}");

        reply.Problem(HttpStatusCode.Unauthorized);
        (await _admin.Get($"/v1/queues/{queue}")).Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task GatewayToken_PuttingAQueue_Answers403NamingTheRole_AndTheQueueDoesNotExistAfterwards()
    {
        var queue = HostApi.NewId("q");

        var reply = await Send(TestTokens.GatewayToken(), HttpMethod.Put, $"/v1/queues/{queue}", "{}");

        Assert.Equal("needs role admin", reply.Problem(HttpStatusCode.Forbidden).Str("detail"));
        (await _admin.Get($"/v1/queues/{queue}")).Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Refusals_ComeBeforeValidation_401Then403Then400()
    {
        var path = $"/v1/queues/{HostApi.NewId("q")}";
        const string invalid = """{ "serviceLevelSeconds": "twenty" }""";

        (await Send(null, HttpMethod.Put, path, invalid)).Problem(HttpStatusCode.Unauthorized);
        (await Send(TestTokens.GatewayToken(), HttpMethod.Put, path, invalid)).Problem(HttpStatusCode.Forbidden);
        (await Send(TestTokens.For("adm-1", [Roles.Admin]), HttpMethod.Put, path, invalid)).ValidationProblem("serviceLevelSeconds");
    }

    [Fact]
    public async Task GatewayB_ReadingGatewayAsSession_Answers404_AsForOneThatDoesNotExist()
    {
        var queue = await _admin.PutQueue(HostApi.NewId("q"));
        var created = await Send(TestTokens.GatewayToken("gw-a"), HttpMethod.Post, "/v1/sessions", NewSession(queue));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Json!.Str("id");

        (await Send(TestTokens.GatewayToken("gw-b"), HttpMethod.Get, $"/v1/sessions/{id}")).Problem(HttpStatusCode.NotFound);
        (await Send(TestTokens.GatewayToken("gw-b"), HttpMethod.Post, $"/v1/sessions/{id}/abandon")).Problem(HttpStatusCode.NotFound);
        (await Send(TestTokens.GatewayToken("gw-b"), HttpMethod.Get, $"/v1/sessions/{id}/events")).Problem(HttpStatusCode.NotFound);

        Assert.Equal("queued", (await Send(TestTokens.GatewayToken("gw-a"), HttpMethod.Get, $"/v1/sessions/{id}")).Ok().Str("state"));
        Assert.Equal("queued", (await Send(TestTokens.For("qa-1", [Roles.Support]), HttpMethod.Get, $"/v1/sessions/{id}")).Ok().Str("state"));
    }

    [Fact]
    public async Task SameIdempotencyKey_FromTwoGateways_MakesTwoSessions()
    {
        var queue = await _admin.PutQueue(HostApi.NewId("q"));
        var key = HostApi.NewId("key");

        var a = await Send(TestTokens.GatewayToken("gw-a"), HttpMethod.Post, "/v1/sessions", NewSession(queue), key);
        var b = await Send(TestTokens.GatewayToken("gw-b"), HttpMethod.Post, "/v1/sessions", NewSession(queue), key);
        var aAgain = await Send(TestTokens.GatewayToken("gw-a"), HttpMethod.Post, "/v1/sessions", NewSession(queue), key);

        Assert.Equal(HttpStatusCode.Created, a.Status);
        Assert.Equal(HttpStatusCode.Created, b.Status);
        Assert.NotEqual(a.Json!.Str("id"), b.Json!.Str("id"));
        Assert.Equal(HttpStatusCode.OK, aAgain.Status);
        Assert.Equal(a.Json!.Str("id"), aAgain.Json!.Str("id"));
    }

    [Fact]
    public async Task Supervisor_MayForceAnAgentNotReady_ButMayNotSetItReady()
    {
        var (_, agent) = await QueueWithReadyAgent();
        var supervisor = TestTokens.For("sup-1", [Roles.Supervisor]);

        var forced = await Send(supervisor, HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "not-ready", "reason": "coaching" }""");
        var ready = await Send(supervisor, HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "ready" }""");

        Assert.Equal("not-ready", forced.Ok().Str("state"));
        Assert.Equal("sup-1", forced.Ok().Str("forcedBy"));
        Assert.Contains("ready", ready.Problem(HttpStatusCode.Forbidden).Str("detail"), StringComparison.Ordinal);
        Assert.Equal("not-ready", (await _admin.Get($"/v1/agents/{agent}")).Ok().Str("state"));
        var own = (await Send(TestTokens.Agent(agent), HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "ready" }""")).Ok();
        Assert.Equal("ready", own.Str("state"));
        Assert.Null(own.StrOrNull("forcedBy"));
    }

    [Fact]
    public async Task QueueAgentsAndMovingAnAgent_AreForSupervisorsAndAdmins_Only()
    {
        var (queue, agent) = await QueueWithReadyAgent();
        var other = await _admin.PutQueue(HostApi.NewId("q"));
        var move = $$"""{ "queues": [ "{{other}}" ] }""";

        (await Send(TestTokens.Agent(agent), HttpMethod.Get, $"/v1/queues/{queue}/agents")).Problem(HttpStatusCode.Forbidden);
        (await Send(TestTokens.Agent(agent), HttpMethod.Put, $"/v1/agents/{agent}/queues", move)).Problem(HttpStatusCode.Forbidden);
        (await Send(TestTokens.GatewayToken(), HttpMethod.Put, $"/v1/agents/{agent}/queues", move)).Problem(HttpStatusCode.Forbidden);
        Assert.Equal([queue], (await _admin.Get($"/v1/agents/{agent}")).Ok().Arr("queues").Select(q => q!.GetValue<string>()));

        await _admin.PollUntil($"/v1/queues/{queue}/agents", a => a.AsArray().Count == 1);
        var supervisor = TestTokens.For("sup-1", [Roles.Supervisor]);
        Assert.Equal(agent, Assert.Single((await Send(supervisor, HttpMethod.Get, $"/v1/queues/{queue}/agents")).Ok().AsArray())!.Str("id"));
        Assert.Equal([other], (await Send(supervisor, HttpMethod.Put, $"/v1/agents/{agent}/queues", move)).Ok().Arr("queues").Select(q => q!.GetValue<string>()));
    }

    [Fact]
    public async Task AgentToken_ReadsItself_ButNotAnotherAgent_NorQueues()
    {
        var (queue, agent) = await QueueWithReadyAgent();
        var token = TestTokens.Agent(agent);

        Assert.Equal(agent, (await Send(token, HttpMethod.Get, $"/v1/agents/{agent}")).Ok().Str("id"));
        Assert.Equal($"acts for agent {agent}, not a-other", (await Send(token, HttpMethod.Get, "/v1/agents/a-other")).Problem(HttpStatusCode.Forbidden).Str("detail"));
        (await Send(token, HttpMethod.Get, $"/v1/queues/{queue}")).Problem(HttpStatusCode.Forbidden);
        (await Send(token, HttpMethod.Get, "/v1/stats")).Problem(HttpStatusCode.Forbidden);
        (await Send(token, HttpMethod.Get, "/metrics")).Problem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Transfer_ByAnAgentThatDoesNotHoldTheSession_Answers403_AndTheSessionStaysWithItsAgent()
    {
        var (queue, agent) = await QueueWithReadyAgent();
        var session = await _admin.CreateSession(queue);
        await _admin.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
        await _admin.Post($"/v1/agents/{agent}/offers/{session}/accept");

        var reply = await Send(TestTokens.Agent("a-bystander"), HttpMethod.Post, $"/v1/sessions/{session}/transfer", $$"""{ "queueId": "{{queue}}" }""");

        reply.Problem(HttpStatusCode.Forbidden);
        var after = (await _admin.Get($"/v1/sessions/{session}")).Ok();
        Assert.Equal("connected", after.Str("state"));
        Assert.Equal(agent, after.Str("agentId"));
    }

    [Fact]
    public async Task DevToken_AnswersCallersOnLoopbackOnly()
    {
        // The in-memory test server has no remote address: not a loopback caller.
        var reply = await Send(null, HttpMethod.Post, DevTokenApi.Path, """{ "subject": "gw-1", "roles": ["gateway"] }""");

        reply.Problem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Health_AnswersAnyone_WithDetailsForSreOnly()
    {
        var anonymous = await Send(null, HttpMethod.Get, "/health/ready");
        var sre = await Send(TestTokens.For("ops-1", [Roles.Sre]), HttpMethod.Get, "/health/ready");

        Assert.Equal(HttpStatusCode.OK, anonymous.Status);
        Assert.Empty(anonymous.Json!.Arr("checks"));
        Assert.NotEmpty(sre.Json!.Arr("checks"));
    }

    private async Task<(string Queue, string Agent)> QueueWithReadyAgent()
    {
        var queue = await _admin.PutQueue(HostApi.NewId("q"), """{ "offerTimeoutSeconds": 60 }""");
        var agent = HostApi.NewId("a");
        await _admin.PutAgent(agent, queue);
        await _admin.SetState(agent, "ready");
        return (queue, agent);
    }

    private static string NewSession(string queue) =>
        $$"""{ "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-1" }, "skills": { "cards": 2 } }""";

    private async Task<Reply> Send(string? token, HttpMethod method, string path, string? json = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await _anonymous.SendAsync(request);
        return await Reply.Read(response);
    }

    private static string Base64Url(string json) => Base64UrlEncoder.Encode(json);
}
