using System.Net;
using System.Net.Http.Headers;
using System.Text;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Access;

/// <summary>
/// Token buckets per caller, on the routing clock (held still here, so no token comes back during the test): beyond
/// the bucket a request is refused with 429, <c>Retry-After</c> and problem details, and creates nothing.
/// </summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly SiloHostFactory _host = SiloHostFactory.Create(new SiloHostOptions
    {
        VirtualTime = true,
        Settings = new Dictionary<string, string>
        {
            ["RateLimits:Gateway:PerSecond"] = "10",
            ["RateLimits:Gateway:Burst"] = "10",
            ["RateLimits:Agent:PerSecond"] = "2",
            ["RateLimits:Agent:Burst"] = "3",
        },
    });

    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _http = _host.CreateAnonymousClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task GatewayLimitOf10_1010Creates_Make10Sessions_1000Answer429WithRetryAfter_AndAnotherGatewayStillCreates()
    {
        var admin = TestTokens.For("adm-1", [Roles.Admin]);
        var queue = HostApi.NewId("q");
        Assert.Equal(HttpStatusCode.OK, (await Send(admin, HttpMethod.Put, $"/v1/queues/{queue}", """{ "maxWaiting": 5000 }""")).Status);
        var gatewayA = TestTokens.GatewayToken("gw-a");

        var replies = new List<(string Key, Reply Reply)>();
        for (var i = 0; i < 1010; i++)
        {
            var key = $"k-{i}";
            replies.Add((key, await Send(gatewayA, HttpMethod.Post, "/v1/sessions", NewSession(queue), key)));
        }

        var created = replies.Where(r => r.Reply.Status == HttpStatusCode.Created).ToList();
        var refused = replies.Where(r => r.Reply.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(10, created.Count);
        Assert.Equal(1000, refused.Count);
        Assert.All(refused, r =>
        {
            r.Reply.Problem(HttpStatusCode.TooManyRequests);
            Assert.True(int.TryParse(r.Reply.RetryAfter, out var seconds) && seconds >= 1, $"Retry-After: {r.Reply.RetryAfter}");
        });

        // Refused creates made nothing: of the 1,010 keys only the 10 created have a session (read by support, on a bucket of its own).
        var support = TestTokens.For("qa-1", [Roles.Support]);
        var existing = 0;
        foreach (var (key, _) in replies)
        {
            var read = await Send(support, HttpMethod.Get, $"/v1/sessions/{SessionOwnership.SessionIdForKey("gw-a", key)}");
            existing += read.Status == HttpStatusCode.OK ? 1 : 0;
        }

        Assert.Equal(10, existing);
        Assert.Equal(HttpStatusCode.Created, (await Send(TestTokens.GatewayToken("gw-b"), HttpMethod.Post, "/v1/sessions", NewSession(queue))).Status);
    }

    [Fact]
    public async Task AgentLimit_IsPerAgent_AndComesAfter403()
    {
        var admin = TestTokens.For("adm-1", [Roles.Admin]);
        await Send(admin, HttpMethod.Put, "/v1/queues/q-rl", "{}");
        await Send(admin, HttpMethod.Put, "/v1/agents/a-rl-1", """{ "queues": ["q-rl"] }""");
        var token = TestTokens.Agent("a-rl-1");

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await Send(token, HttpMethod.Get, "/v1/agents/a-rl-1")).Status);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], answers);

        // Another agent's route: refused as 403 before any rate limit is looked at.
        (await Send(token, HttpMethod.Get, "/v1/agents/a-rl-2")).Problem(HttpStatusCode.Forbidden);
    }

    private static string NewSession(string queue) =>
        $$"""{ "queueId": "{{queue}}", "channel": "chat", "customer": { "id": "c-1" } }""";

    private async Task<Reply> Send(string token, HttpMethod method, string path, string? json = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await _http.SendAsync(request);
        return await Reply.Read(response);
    }
}
