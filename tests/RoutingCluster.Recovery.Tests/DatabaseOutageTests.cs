using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// PostgreSQL stops and starts again under a running silo host (pg_ctl stop -m fast, then start on the same port):
/// nothing that was acknowledged is lost, the host serves again once the database is back, and requests that needed
/// the database meanwhile are refused as "try again" (503 with Retry-After), never 500.
/// </summary>
public sealed class DatabaseOutageTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    private const string NewSession = """{ "queueId": "cards", "channel": "voice", "customer": { "id": "c-outage" }, "skills": { "cards": 2 } }""";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DatabaseRestart_MidRun_LosesNothingAcknowledged_AndServesAgainOnceItIsBack()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("outage"));
        var acknowledged = new Dictionary<string, JsonNode>();    // every session a 2xx answered for, as last seen
        JsonNode agentAfter;
        var first = RecoveryHost.Create(settings);
        await using (first.ConfigureAwait(true))
        {
            var api = new HostApi(first.CreateClient());
            await api.PutQueue("cards");
            await api.PutAgent("a-1", "cards");
            for (var i = 0; i < 3; i++)
            {
                var view = await api.CreateSessionOf("cards", $"c-{i}", idempotencyKey: $"before-{i}");
                acknowledged[HostApi.Str(view, "id")] = view;
            }

            // Changes refused during the outage, on grains active in memory (session, agent) and on new ones: none of
            // them may linger in memory afterwards as if it had been stored.
            var outage = await DuringOutageAsync(api, acknowledged.Keys.First());
            Report(outage, first);

            // Back: the refused create is retried with its idempotency key until the cluster takes it.
            var retried = await RetryAsync(() => api.Post("/v1/sessions", NewSession, "during-1"));
            Assert.Equal(HttpStatusCode.Created, retried.Status);
            acknowledged[HostApi.Str(retried.Success(), "id")] = retried.Success();
            var after = await RetryAsync(() => api.Post("/v1/sessions",
                """{ "queueId": "cards", "channel": "chat", "customer": { "id": "c-after" }, "skills": { "cards": 2 } }""", "after-1"));
            acknowledged[HostApi.Str(after.Success(), "id")] = after.Success();
            Assert.Equal("loans", HostApi.Str((await RetryAsync(() => api.Put("/v1/queues/loans", "{}"))).Success(), "id"));
            foreach (var id in acknowledged.Keys.ToList())
            {
                acknowledged[id] = (await api.Get($"/v1/sessions/{id}")).Success();
            }

            agentAfter = (await api.Get("/v1/agents/a-1")).Success();
        }

        // A fresh host on the same database has every session and the agent exactly as they were last answered.
        await using var second = RecoveryHost.Create(settings);
        var again = new HostApi(second.CreateClient());
        foreach (var (id, view) in acknowledged)
        {
            var now = await again.Get($"/v1/sessions/{id}");
            Assert.True(now.IsSuccess, $"session {id}, acknowledged before, is {(int)now.Status} after a restart: {now.Body}");
            Assert.True(JsonNode.DeepEquals(view, now.Json), $"session {id}: was {view.ToJsonString()}\n  now {now.Body}");
        }

        var agentNow = (await again.Get("/v1/agents/a-1")).Success();
        Assert.True(JsonNode.DeepEquals(agentAfter, agentNow), $"agent a-1: was {agentAfter.ToJsonString()}\n  now {agentNow.ToJsonString()}");
        Assert.Equal("queued", HostApi.Str(acknowledged.Values.First(), "state"));   // its abandon was refused, so it is still waiting
        Assert.Equal("logged-out", HostApi.Str(agentNow, "state"));                  // its state change was refused
    }

    [Fact]
    public async Task DatabaseRestart_MidRun_RequestsThatNeedTheDatabase_Answer503WithRetryAfter_Not500()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("outage503"));
        var host = RecoveryHost.Create(settings);
        await using (host.ConfigureAwait(true))
        {
            var api = new HostApi(host.CreateClient());
            await api.PutQueue("cards");
            await api.PutAgent("a-1", "cards");
            var session = HostApi.Str(await api.CreateSessionOf("cards", "c-0"), "id");

            var outage = await DuringOutageAsync(api, session);
            Report(outage, host);

            Assert.All(outage, o =>
            {
                Assert.True(o.Reply.Status == HttpStatusCode.ServiceUnavailable, $"{o.Request} during the outage answered {(int)o.Reply.Status}: {o.Reply.Body}");
                Assert.False(string.IsNullOrEmpty(o.Reply.RetryAfter), $"{o.Request}: 503 without Retry-After");
            });
        }
    }

    /// <summary>Stops PostgreSQL, sends requests that each need it, and starts it again.</summary>
    private async Task<List<(string Request, Reply Reply)>> DuringOutageAsync(HostApi api, string activeSessionId)
    {
        var outage = new List<(string Request, Reply Reply)>();
        await postgres.StopServerAsync();
        try
        {
            outage.Add(("POST /v1/sessions (new)", await api.Post("/v1/sessions", NewSession, "during-1")));
            outage.Add(("PUT /v1/queues/loans (new)", await api.Put("/v1/queues/loans", "{}")));
            outage.Add(("POST /v1/agents/a-1/state (active)", await api.Post("/v1/agents/a-1/state", """{ "state": "not-ready", "reason": "break" }""")));
            outage.Add(("POST /v1/sessions/{id}/abandon (active)", await api.Post($"/v1/sessions/{activeSessionId}/abandon")));
            outage.Add(("GET /v1/sessions/{id} (not in memory)", await api.Get("/v1/sessions/s-00000000000000000000000000000000")));
        }
        finally
        {
            await postgres.StartServerAsync();
        }

        return outage;
    }

    private void Report(List<(string Request, Reply Reply)> outage, SiloHostFactory host)
    {
        foreach (var (request, reply) in outage)
        {
            output.WriteLine($"during the outage: {request} -> {(int)reply.Status}, Retry-After: {reply.RetryAfter ?? "(none)"}");
        }

        foreach (var (path, exception) in host.Failures)
        {
            output.WriteLine($"reached the HTTP layer: {path}: {Describe(exception)}");
        }
    }

    /// <summary>Retries a request while the cluster is still reconnecting (5xx), until a deadline.</summary>
    private static async Task<Reply> RetryAsync(Func<Task<Reply>> request)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var reply = await request();
            if ((int)reply.Status < 500 || DateTime.UtcNow >= deadline)
            {
                return reply;
            }

            await Task.Delay(100);
        }
    }

    private static string Describe(Exception exception)
    {
        var chain = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            chain.Add(e switch
            {
                Npgsql.PostgresException pg => string.Create(CultureInfo.InvariantCulture, $"{e.GetType().FullName} (SqlState {pg.SqlState})"),
                Npgsql.NpgsqlException npgsql => string.Create(CultureInfo.InvariantCulture, $"{e.GetType().FullName} (IsTransient {npgsql.IsTransient})"),
                _ => e.GetType().FullName!,
            });
        }

        return string.Join(" <- ", chain);
    }
}
