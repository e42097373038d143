using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using RoutingCluster.Recovery.Tests.Infrastructure;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// PostgreSQL stops and starts again under a running silo host: requests that need the database meanwhile are
/// refused as "try again" (503 with Retry-After), never 500, and nothing that was acknowledged is lost.
/// </summary>
public sealed class DatabaseOutageTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DatabaseRestart_MidRun_RefusesWith503AndRetryAfter_AndLosesNothingAcknowledged()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("outage"));
        var acknowledged = new Dictionary<string, JsonNode>();    // every session a 2xx answered for, as last seen
        var outage = new List<(string Request, Reply Reply)>();
        JsonNode agentAfter;
        var first = new RecoveryHost(settings);
        await using (first.ConfigureAwait(true))
        {
            var api = new Api(first.CreateClient());
            await api.PutQueue("cards");
            await api.PutAgent("a-1", "cards");
            for (var i = 0; i < 3; i++)
            {
                var view = await api.CreateSession("cards", $"c-{i}", idempotencyKey: $"before-{i}");
                acknowledged[Api.Str(view, "id")] = view;
            }

            await postgres.StopServerAsync();
            try
            {
                // Each of these needs the database: a new session, a queue and an agent change, a session not active in
                // memory. Whatever a 2xx acknowledges here must be there afterwards.
                outage.Add(("POST /v1/sessions", await api.Post("/v1/sessions",
                    """{ "queueId": "cards", "channel": "voice", "customer": { "id": "c-outage" }, "skills": { "cards": 2 } }""", "during-1")));
                outage.Add(("PUT /v1/queues/loans", await api.Put("/v1/queues/loans", "{}")));
                outage.Add(("POST /v1/agents/a-1/state", await api.Post("/v1/agents/a-1/state", """{ "state": "not-ready", "reason": "break" }""")));
                outage.Add(("GET /v1/sessions/s-0000", await api.Get("/v1/sessions/s-00000000000000000000000000000000")));
                outage.Add(("POST /v1/sessions/{id}/abandon", await api.Post($"/v1/sessions/{acknowledged.Keys.First()}/abandon")));
            }
            finally
            {
                await postgres.StartServerAsync();
            }

            foreach (var (request, reply) in outage)
            {
                output.WriteLine($"during the outage: {request} -> {(int)reply.Status}, Retry-After: {reply.RetryAfter ?? "(none)"}");
            }

            foreach (var (path, exception) in first.Failures)
            {
                output.WriteLine($"unhandled at the HTTP layer: {path}: {Describe(exception)}");
            }

            // Back: the same request is retried (same idempotency key) until the cluster takes it.
            var retried = await RetryAsync(() => api.Post("/v1/sessions",
                """{ "queueId": "cards", "channel": "voice", "customer": { "id": "c-outage" }, "skills": { "cards": 2 } }""", "during-1"));
            acknowledged[Api.Str(retried.Ok(), "id")] = retried.Ok();
            var after = await RetryAsync(() => api.Post("/v1/sessions",
                """{ "queueId": "cards", "channel": "chat", "customer": { "id": "c-after" }, "skills": { "cards": 2 } }""", "after-1"));
            acknowledged[Api.Str(after.Ok(), "id")] = after.Ok();
            foreach (var id in acknowledged.Keys.ToList())
            {
                acknowledged[id] = (await api.Get($"/v1/sessions/{id}")).Ok();
            }

            agentAfter = (await api.Get("/v1/agents/a-1")).Ok();
        }

        // Nothing acknowledged is lost: a fresh host on the same database has every session as it was last answered.
        await using var second = new RecoveryHost(settings);
        var again = new Api(second.CreateClient());
        foreach (var (id, view) in acknowledged)
        {
            var now = await again.Get($"/v1/sessions/{id}");
            Assert.True(now.IsSuccess, $"session {id}, acknowledged before, is {(int)now.Status} after a restart: {now.Body}");
            Assert.True(JsonNode.DeepEquals(view, now.Json), $"session {id}: was {view.ToJsonString()}\n  now {now.Body}");
        }

        var agentNow = (await again.Get("/v1/agents/a-1")).Ok();
        Assert.True(JsonNode.DeepEquals(agentAfter, agentNow), $"agent a-1: was {agentAfter.ToJsonString()}\n  now {agentNow.ToJsonString()}");

        // And during the outage nothing answered 500: the database being away is "try again later".
        Assert.All(outage, o =>
        {
            Assert.True(o.Reply.IsSuccess || o.Reply.Status == HttpStatusCode.ServiceUnavailable,
                $"{o.Request} during the outage answered {(int)o.Reply.Status}: {o.Reply.Body}");
            if (o.Reply.Status == HttpStatusCode.ServiceUnavailable)
            {
                Assert.False(string.IsNullOrEmpty(o.Reply.RetryAfter), $"{o.Request}: 503 without Retry-After");
            }
        });
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
            chain.Add(e is Npgsql.PostgresException pg
                ? string.Create(CultureInfo.InvariantCulture, $"{e.GetType().FullName} (SqlState {pg.SqlState})")
                : e is Npgsql.NpgsqlException npgsql
                    ? string.Create(CultureInfo.InvariantCulture, $"{e.GetType().FullName} (IsTransient {npgsql.IsTransient})")
                    : e.GetType().FullName!);
        }

        return string.Join(" <- ", chain);
    }
}
