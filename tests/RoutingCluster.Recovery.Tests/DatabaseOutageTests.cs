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

    /// <summary>
    /// Writers keep going while PostgreSQL stops and starts again: gateways create sessions, agents change state,
    /// an admin creates queues, each as fast as answers come. Every answer, the stop and the start included, is a
    /// success or a 503 with Retry-After (never a 500); every write that was acknowledged is found by a fresh host on
    /// the same database exactly as last answered; and the outage provably hit writes in flight.
    /// </summary>
    [Fact]
    public async Task DatabaseRestart_UnderConcurrentWrites_AnswersOnly2xxOr503_AndKeepsEveryAcknowledgedWrite()
    {
        const int gateways = 4, agents = 3;
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("outagerun"));
        var sessions = new System.Collections.Concurrent.ConcurrentDictionary<string, JsonNode>();
        var agentStates = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();   // agent -> last acknowledged reason
        var queues = new System.Collections.Concurrent.ConcurrentBag<string>();
        var answers = new System.Collections.Concurrent.ConcurrentBag<(string Request, Reply Reply, Phase Phase)>();
        var phase = (int)Phase.Before;
        var host = RecoveryHost.Create(settings);
        await using (host.ConfigureAwait(true))
        {
            var api = new HostApi(host.CreateClient());
            await api.PutQueue("cards");
            for (var a = 0; a < agents; a++)
            {
                await api.PutAgent($"a-{a}", "cards");
            }

            using var stop = new CancellationTokenSource();
            async Task Writer(string name, Func<int, Task<(string Request, Reply Reply)>> write, Action<int, Reply> acknowledged)
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var during = (Phase)Volatile.Read(ref phase);
                    var (request, reply) = await write(n);
                    answers.Add(($"{name} {request}", reply, during));
                    if (reply.IsSuccess)
                    {
                        acknowledged(n, reply);
                    }
                    else
                    {
                        await Task.Delay(20);   // a refused writer backs off briefly, as the Retry-After asks
                    }
                }
            }

            var writers = new List<Task>();
            for (var g = 0; g < gateways; g++)
            {
                var gateway = g;
                writers.Add(Writer($"gateway {gateway}",
                    async n => ("POST /v1/sessions", await api.Post("/v1/sessions",
                        $$"""{ "queueId": "cards", "channel": "chat", "customer": { "id": "c-{{gateway}}-{{n}}" }, "skills": { "cards": 2 } }""", $"g{gateway}-{n}")),
                    (_, reply) => sessions[HostApi.Str(reply.Success(), "id")] = reply.Success()));
            }

            for (var a = 0; a < agents; a++)
            {
                var agent = $"a-{a}";
                writers.Add(Writer(agent,
                    async n => ("POST /v1/agents/{id}/state", await api.Post($"/v1/agents/{agent}/state", $$"""{ "state": "not-ready", "reason": "r{{n}}" }""")),
                    (n, _) => agentStates[agent] = $"r{n}"));
            }

            writers.Add(Writer("admin",
                async n => ("PUT /v1/queues/{id}", await api.Put($"/v1/queues/q-{n}", "{}")),
                (n, _) => queues.Add($"q-{n}")));

            await Task.Delay(TimeSpan.FromSeconds(1));
            Volatile.Write(ref phase, (int)Phase.Stopping);
            await postgres.StopServerAsync();
            Volatile.Write(ref phase, (int)Phase.Down);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Volatile.Write(ref phase, (int)Phase.Starting);
            await postgres.StartServerAsync();
            Volatile.Write(ref phase, (int)Phase.After);

            // The writers go on until each kind of write has been acknowledged again after the restart.
            var deadline = DateTime.UtcNow + Deadline;
            while (DateTime.UtcNow < deadline && !AllWroteAgain(answers, gateways + agents + 1))
            {
                await Task.Delay(200);
            }

            await stop.CancelAsync();
            await Task.WhenAll(writers);
            // Exceptions that reached the HTTP layer were answered as 503 (checked below on what the writers saw).
            foreach (var failure in host.Failures.Select(f => $"{f.Path}: {Describe(f.Exception)}").Distinct().Take(10))
            {
                output.WriteLine($"reached the HTTP layer (answered 503): {failure}");
            }

            foreach (var group in answers.GroupBy(a => (a.Phase, (int)a.Reply.Status)).OrderBy(g => g.Key))
            {
                output.WriteLine($"{group.Key.Phase}: {group.Key.Item2} x {group.Count()}");
            }

            Assert.True(AllWroteAgain(answers, gateways + agents + 1), "not every writer was acknowledged again after the restart");
            var wrong = answers.Where(a => !a.Reply.IsSuccess && (a.Reply.Status != HttpStatusCode.ServiceUnavailable || string.IsNullOrEmpty(a.Reply.RetryAfter))).ToList();
            Assert.True(wrong.Count == 0, "answers other than 2xx or 503 with Retry-After: "
                + string.Join("; ", wrong.Take(5).Select(w => $"{w.Request} ({w.Phase}) -> {(int)w.Reply.Status} {w.Reply.Body}")));
            Assert.Contains(answers, a => a.Phase == Phase.Down && a.Reply.Status == HttpStatusCode.ServiceUnavailable);   // the outage hit writes
            Assert.Contains(answers, a => a.Phase == Phase.Before && a.Reply.IsSuccess);

            // As each was last answered, read back from this host once the writers have stopped.
            foreach (var id in sessions.Keys.ToList())
            {
                sessions[id] = (await RetryAsync(() => api.Get($"/v1/sessions/{id}"))).Success();
            }
        }

        await using var second = RecoveryHost.Create(settings);
        var again = new HostApi(second.CreateClient());
        foreach (var (id, view) in sessions)
        {
            var now = await again.Get($"/v1/sessions/{id}");
            Assert.True(now.IsSuccess, $"session {id}, acknowledged before, is {(int)now.Status} after a restart: {now.Body}");
            Assert.True(JsonNode.DeepEquals(view, now.Json), $"session {id}: was {view.ToJsonString()}\n  now {now.Body}");
        }

        foreach (var (agent, reason) in agentStates)
        {
            Assert.Equal(reason, HostApi.Str((await again.Get($"/v1/agents/{agent}")).Success(), "reason"));
        }

        foreach (var queue in queues)
        {
            Assert.True((await again.Get($"/v1/queues/{queue}")).IsSuccess, $"queue {queue}, acknowledged before, is gone");
        }

        output.WriteLine($"acknowledged: {sessions.Count} sessions, {agentStates.Count} agents' states, {queues.Count} queues; all found after a restart");
    }

    private enum Phase
    {
        Before,
        Stopping,
        Down,
        Starting,
        After,
    }

    private static bool AllWroteAgain(IEnumerable<(string Request, Reply Reply, Phase Phase)> answers, int writers) =>
        answers.Where(a => a.Phase == Phase.After && a.Reply.IsSuccess).Select(a => a.Request).Distinct().Count() >= writers;

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

    /// <summary>Retries a request while the cluster answers "try again" (503 with Retry-After), until a deadline. Any
    /// other answer, a 500 among them, is returned at once, for the caller to check.</summary>
    private static async Task<Reply> RetryAsync(Func<Task<Reply>> request)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var reply = await request();
            if (reply.Status != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow >= deadline)
            {
                return reply;
            }

            Assert.False(string.IsNullOrEmpty(reply.RetryAfter), $"503 without Retry-After: {reply.Body}");

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
