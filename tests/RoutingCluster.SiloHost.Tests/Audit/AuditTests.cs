using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Audit;

/// <summary>
/// The audit log of the contract: configuration changes with before and after, agent state changes (forced ones
/// marked), transfers and refused access, with who, from where, when and the trace id; read by auditors only.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class AuditTests(SiloHostFactory host)
{
    private static readonly string Auditor = TestTokens.For("risk-1", [Roles.Auditor]);
    private static readonly string Admin = TestTokens.For("admin-1", [Roles.Admin]);

    private readonly HostApi _api = new(host.CreateClient());
    private readonly HttpClient _anonymous = host.CreateAnonymousClient();

    [Fact]
    public async Task QueueChanges_AreRecorded_WithWhoAndTheConfigurationBeforeAndAfter_NewestFirst()
    {
        var queue = HostApi.NewId("q");
        (await Send(Admin, HttpMethod.Put, $"/v1/queues/{queue}", """{ "name": "Cards", "wrapUpSeconds": 5 }""")).Ok();
        (await Send(Admin, HttpMethod.Put, $"/v1/queues/{queue}", """{ "name": "Cards", "wrapUpSeconds": 30 }""")).Ok();

        var records = await Audit($"targetId={queue}");

        Assert.Equal(2, records.Count);
        var (latest, first) = (records[0]!, records[1]!);
        Assert.True(latest["id"]!.GetValue<long>() > first["id"]!.GetValue<long>());
        Assert.All(records, r => Assert.Equal("queue.configured", r!.Str("action")));
        Assert.All(records, r => Assert.Equal("succeeded", r!.Str("outcome")));
        Assert.Equal("admin-1", latest["actor"]!.Str("sub"));
        Assert.Equal(["admin"], latest["actor"]!.Arr("roles").Select(r => r!.GetValue<string>()));
        Assert.Null(first["before"]);
        Assert.Equal(5, first["after"]!["wrapUpSeconds"]!.GetValue<double>());
        Assert.Equal(5, latest["before"]!["wrapUpSeconds"]!.GetValue<double>());
        Assert.Equal(30, latest["after"]!["wrapUpSeconds"]!.GetValue<double>());
        Assert.False(string.IsNullOrEmpty(latest.StrOrNull("traceId")));
        var at = DateTimeOffset.Parse(latest.Str("at"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(at, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task AgentProfile_Move_AndStateChanges_AreRecorded_ForcedOnesMarked()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var other = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        (await Send(Admin, HttpMethod.Put, $"/v1/agents/{agent}", $$"""{ "queues": [ "{{queue}}" ], "skills": { "cards": 3 } }""")).Ok();
        (await Send(TestTokens.Agent(agent), HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "ready" }""")).Ok();
        var supervisor = TestTokens.For("sup-7", [Roles.Supervisor]);
        (await Send(supervisor, HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "not-ready", "reason": "coaching" }""")).Ok();
        (await Send(supervisor, HttpMethod.Put, $"/v1/agents/{agent}/queues", $$"""{ "queues": [ "{{other}}" ] }""")).Ok();

        var records = await Audit($"targetId={agent}");

        Assert.Equal(["agent.moved", "agent.state-changed", "agent.state-changed", "agent.configured"], records.Select(r => r!.Str("action")));
        var (moved, forced, own, configured) = (records[0]!, records[1]!, records[2]!, records[3]!);
        Assert.Equal([queue], moved["before"]!.Arr("queues").Select(q => q!.GetValue<string>()));
        Assert.Equal([other], moved["after"]!.Arr("queues").Select(q => q!.GetValue<string>()));
        Assert.True(forced["forced"]!.GetValue<bool>());
        Assert.Equal("sup-7", forced["actor"]!.Str("sub"));
        Assert.Equal("not-ready", forced["after"]!.Str("state"));
        Assert.Equal("coaching", forced["after"]!.Str("reason"));
        Assert.False(own["forced"]!.GetValue<bool>());
        Assert.Equal(agent, own["actor"]!.Str("agentId"));
        Assert.Equal("ready", own["after"]!.Str("state"));
        Assert.Null(configured["before"]);
        Assert.Equal(3, configured["after"]!["skills"]!["cards"]!.GetValue<int>());
    }

    [Fact]
    public async Task RefusedAccess_IsRecorded_401And403_WithTheRouteAndWhy()
    {
        var queue = HostApi.NewId("q");
        var gateway = TestTokens.GatewayToken("gw-audit");

        (await Send(gateway, HttpMethod.Put, $"/v1/queues/{queue}", "{}")).Problem(HttpStatusCode.Forbidden);
        (await Send(null, HttpMethod.Put, $"/v1/queues/{queue}", "{}")).Problem(HttpStatusCode.Unauthorized);

        var records = await Audit($"targetId={queue}&action=access.refused");

        Assert.Equal(2, records.Count);
        var (unauthenticated, forbidden) = (records[0]!, records[1]!);
        Assert.Equal("refused", forbidden.Str("outcome"));
        Assert.Equal("gw-audit", forbidden["actor"]!.Str("clientId"));
        Assert.Contains("PUT /v1/queues/{id}", forbidden.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("needs role admin", forbidden.Str("detail"), StringComparison.Ordinal);
        Assert.Null(unauthenticated["actor"]!["sub"]);
        Assert.Contains("bearer token is needed", unauthenticated.Str("detail"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(Admin, HttpMethod.Get, $"/v1/queues/{queue}")).Status);
    }

    [Fact]
    public async Task ASupervisorSettingReady_IsRefused_AndRecordedAsRefused()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);

        (await Send(TestTokens.For("sup-8", [Roles.Supervisor]), HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "ready" }"""))
            .Problem(HttpStatusCode.Forbidden);

        var refused = Assert.Single(await Audit($"targetId={agent}&actor=sup-8"))!;
        Assert.Equal("access.refused", refused.Str("action"));
        Assert.Contains("may set ready", refused.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transfers_AreRecorded_WithWhereTheSessionWent_AndNoCustomerData()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var next = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        var customer = "CUST-AUDIT-" + Guid.NewGuid().ToString("N")[..8];
        var session = (await _api.CreateSessionOf(queue, customer, age: 81)).Str("id");
        await _api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Ok();

        (await Send(TestTokens.Agent(agent), HttpMethod.Post, $"/v1/sessions/{session}/transfer", $$"""{ "queueId": "{{next}}" }""")).Ok();

        var transfer = Assert.Single(await Audit($"targetId={session}"))!;
        Assert.Equal("session.transferred", transfer.Str("action"));
        Assert.Equal(agent, transfer["actor"]!.Str("agentId"));
        Assert.Equal(next, transfer["after"]!.Str("queueId"));
        var everything = (await Send(Auditor, HttpMethod.Get, "/v1/audit?limit=1000")).Body;
        Assert.DoesNotContain(customer, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLog_IsForAuditorsOnly()
    {
        var admin = await Send(Admin, HttpMethod.Get, "/v1/audit");
        var supervisor = await Send(TestTokens.For("sup-9", [Roles.Supervisor]), HttpMethod.Get, "/v1/audit");
        var anonymous = await Send(null, HttpMethod.Get, "/v1/audit");

        Assert.Contains("needs role auditor", admin.Problem(HttpStatusCode.Forbidden).Str("detail"), StringComparison.Ordinal);
        supervisor.Problem(HttpStatusCode.Forbidden);
        anonymous.Problem(HttpStatusCode.Unauthorized);
        var refusal = Assert.Single(await Audit("actor=sup-9&action=access.refused"))!;
        Assert.Contains("GET /v1/audit", refusal.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("action=queue.deleted", "action")]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2026-12-08T00:00:00Z&to=2026-12-07T00:00:00Z", "from")]
    [InlineData("targetId=a%20b", "targetId")]
    [InlineData("page=2", "page")]
    public async Task BadQueries_Answer400_NamingTheParameter(string query, string field)
    {
        (await Send(Auditor, HttpMethod.Get, $"/v1/audit?{query}")).ValidationProblem(field);
    }

    [Fact]
    public async Task Queries_FilterByTimeAndLimit()
    {
        var queue = HostApi.NewId("q");
        for (var i = 0; i < 3; i++)
        {
            (await Send(Admin, HttpMethod.Put, $"/v1/queues/{queue}", $$"""{ "wrapUpSeconds": {{i}} }""")).Ok();
        }

        var all = await Audit($"targetId={queue}");
        var newest = await Audit($"targetId={queue}&limit=1");
        var future = await Audit($"targetId={queue}&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        var past = await Audit($"targetId={queue}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}");

        Assert.Equal(3, all.Count);
        Assert.Equal(all[0]!["id"]!.GetValue<long>(), Assert.Single(newest)!["id"]!.GetValue<long>());
        Assert.Empty(future);
        Assert.Empty(past);
    }

    private async Task<JsonArray> Audit(string query)
    {
        // Records of refusals and state changes are written on the side: wait briefly for them to land.
        JsonArray records = [];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            records = (await Send(Auditor, HttpMethod.Get, $"/v1/audit?{query}")).Ok().AsArray();
            await Task.Delay(20);
            var again = (await Send(Auditor, HttpMethod.Get, $"/v1/audit?{query}")).Ok().AsArray();
            if (again.Count == records.Count)
            {
                return again;
            }
        }

        return records;
    }

    private async Task<Reply> Send(string? token, HttpMethod method, string path, string? json = null)
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

        using var response = await _anonymous.SendAsync(request);
        return await Reply.Read(response);
    }
}
