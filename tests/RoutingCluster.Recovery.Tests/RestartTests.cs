using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// A full restart of the cluster (every silo stopped, a new one started on the same database) loses nothing: the
/// real silo host with the postgres profile, driven and checked over HTTP only.
/// </summary>
public sealed class RestartTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    /// <summary>Sessions that only wait, to give recovery some volume.</summary>
    private const int BulkSessions = 100;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task FullRestart_OnTheSameDatabase_KeepsEverySessionAndAgent_ServesTheQueueInItsOrder_AndFiresPendingOfferTimers()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("restart"));
        var sessions = new Dictionary<string, JsonNode>();     // id -> view before the restart
        var agents = new Dictionary<string, JsonNode>();       // id -> view before the restart
        string elderly, o1, o2, o3, offered, gone, talking, done, wrapping;
        JsonNode offeredView, offerAgentView;
        var stopwatch = Stopwatch.StartNew();

        var first = RecoveryHost.Create(settings);
        await using (first.ConfigureAwait(true))
        {
            var api = new HostApi(first.CreateClient());
            output.WriteLine($"first host up in {stopwatch.ElapsedMilliseconds} ms");

            // The waiting queue serves with no wrap-up, so its order can be read off one agent taking session after session.
            await api.PutQueue("wait", """{ "name": "Waiting", "wrapUpSeconds": 0 }""");
            await api.PutQueue("offer", """{ "name": "Short offers", "offerTimeoutSeconds": 3 }""");
            await api.PutQueue("talk", """{ "name": "Long wrap-up", "wrapUpSeconds": 3600 }""");
            await api.PutQueue("bulk", """{ "name": "Volume" }""");
            await api.PutAgent("a-wait", "wait");
            await api.PutAgent("a-offer", "offer");
            await api.PutAgent("a-talk", "talk");
            await api.PutAgent("a-wrap", "talk");

            // Queued, in known order: two ordinary customers, an elderly one (72, derived from age), another ordinary one.
            o1 = Id(await api.CreateSessionOf("wait", "c-private-o1", age: 30));
            o2 = Id(await api.CreateSessionOf("wait", "c-private-o2"));
            elderly = Id(await api.CreateSessionOf("wait", "c-private-elderly", age: 72));
            o3 = Id(await api.CreateSessionOf("wait", "c-private-o3", age: 41, idempotencyKey: "key-o3"));
            Assert.Equal(["elderly"], (await api.Get($"/v1/sessions/{elderly}")).Success()["segments"]!.AsArray().Select(s => s!.GetValue<string>()));

            // Abandoned while queued.
            gone = Id(await api.CreateSessionOf("wait", "c-private-gone"));
            Assert.Equal("abandoned", HostApi.Str((await api.Post($"/v1/sessions/{gone}/abandon")).Success(), "state"));

            // Connected: a-talk takes it.
            await api.SetState("a-talk", "ready");
            talking = Id(await api.CreateSessionOf("talk", "c-private-talk"));
            await api.PollUntil($"/v1/sessions/{talking}", s => HostApi.Str(s, "state") == "offered", Deadline, "offered to a-talk");
            (await api.Post($"/v1/agents/a-talk/offers/{talking}/accept")).Success();

            // Completed, then wrap-up: a-wrap takes both (a-talk is busy on voice).
            await api.SetState("a-wrap", "ready");
            done = Id(await api.CreateSessionOf("talk", "c-private-done"));
            await api.PollUntil($"/v1/sessions/{done}", s => s["agentId"]?.GetValue<string>() == "a-wrap", Deadline, "offered to a-wrap");
            (await api.Post($"/v1/agents/a-wrap/offers/{done}/accept")).Success();
            (await api.Post($"/v1/agents/a-wrap/sessions/{done}/end")).Success();
            (await api.Post($"/v1/agents/a-wrap/sessions/{done}/wrap-up-done")).Success();
            wrapping = Id(await api.CreateSessionOf("talk", "c-private-wrap"));
            await api.PollUntil($"/v1/sessions/{wrapping}", s => s["agentId"]?.GetValue<string>() == "a-wrap", Deadline, "offered to a-wrap");
            (await api.Post($"/v1/agents/a-wrap/offers/{wrapping}/accept")).Success();
            (await api.Post($"/v1/agents/a-wrap/sessions/{wrapping}/end")).Success();

            for (var i = 0; i < BulkSessions; i++)
            {
                var view = await api.CreateSessionOf("bulk", $"c-private-bulk-{i}", age: i % 2 == 0 ? 80 : 20);
                sessions[Id(view)] = view;
            }

            Assert.Equal(["connected", "completed", "wrap-up", "queued", "queued", "queued", "queued", "abandoned"],
                await StatesAsync(api, talking, done, wrapping, o1, o2, elderly, o3, gone));

            foreach (var id in new[] { o1, o2, elderly, o3, gone, talking, done, wrapping })
            {
                sessions[id] = (await api.Get($"/v1/sessions/{id}")).Success();
            }

            foreach (var id in new[] { "a-wait", "a-talk", "a-wrap" })
            {
                agents[id] = (await api.Get($"/v1/agents/{id}")).Success();
            }

            // Offered, last: its 3-s offer is pending when the silo stops.
            await api.SetState("a-offer", "ready");
            offered = Id(await api.CreateSessionOf("offer", "c-private-offer"));
            offeredView = await api.PollUntil($"/v1/sessions/{offered}", s => HostApi.Str(s, "state") == "offered", Deadline, "offered to a-offer");
            offerAgentView = (await api.Get("/v1/agents/a-offer")).Success();
            Assert.Equal(offered, HostApi.Str(offerAgentView["offers"]![0]!, "sessionId"));
            stopwatch.Restart();
        }

        output.WriteLine($"first host stopped in {stopwatch.ElapsedMilliseconds} ms");

        // ---- a new host on the same database ----
        stopwatch.Restart();
        await using var second = RecoveryHost.Create(settings);
        var client = second.CreateClient();                      // builds and starts the host
        var hostStarted = stopwatch.Elapsed;
        var again = new HostApi(client);
        await again.PollUntil("/v1/queues/wait", _ => true, Deadline, "the restarted host answers");
        var restartToReady = stopwatch.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"restart-to-ready: {restartToReady.TotalMilliseconds:F0} ms (host start {hostStarted.TotalMilliseconds:F0} ms, then the first successful GET); sessions through the restart: {sessions.Count + 1}"));

        // The offer: still pending with the same expiry, or (the restart outlasted its 3 s) already missed — never lost.
        var offerNow = (await again.Get($"/v1/sessions/{offered}")).Success();
        var expiresAt = DateTimeOffset.Parse(HostApi.Str(offeredView, "offerExpiresAt"), CultureInfo.InvariantCulture);
        if (HostApi.Str(offerNow, "state") == "offered")
        {
            AssertSameJson(offeredView, offerNow);
        }
        else
        {
            Assert.True(DateTimeOffset.UtcNow >= expiresAt, $"the offer was withdrawn before it expired: {offerNow.ToJsonString()}");
        }

        // Every other session: the same view, field for field (state, queue, agent, times, explanation, history).
        foreach (var (id, before) in sessions)
        {
            AssertSameJson(before, (await again.Get($"/v1/sessions/{id}")).Success());
        }

        // Agents: profiles, states and held sessions.
        foreach (var (id, before) in agents)
        {
            AssertSameJson(before, (await again.Get($"/v1/agents/{id}")).Success());
        }

        var offerAgentNow = (await again.Get("/v1/agents/a-offer")).Success();
        foreach (var field in new[] { "name", "skills", "queues", "capacity" })
        {
            AssertSameJson(offerAgentView[field]!, offerAgentNow[field]!);
        }

        // The offer's timer runs in the new silo: the session goes back to its queue, the agent is not-ready, missed-offer.
        var requeued = await again.PollUntil($"/v1/sessions/{offered}", s => HostApi.Str(s, "state") == "queued", Deadline,
            "the offer pending at the restart expires and the session is queued again");
        var missed = requeued["history"]!.AsArray()[^1]!;
        Assert.Equal("missed by a-offer", missed["note"]?.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(HostApi.Str(missed, "at"), CultureInfo.InvariantCulture) >= expiresAt);
        Assert.Equal(HostApi.Str(offeredView, "createdAt"), HostApi.Str(requeued, "createdAt"));
        var offerAgent = await again.PollUntil("/v1/agents/a-offer", a => HostApi.Str(a, "state") == "not-ready", Deadline, "a-offer is not-ready");
        Assert.Equal("missed-offer", HostApi.Str(offerAgent, "reason"));
        Assert.Empty(offerAgent["offers"]!.AsArray());

        // The waiting queue serves in its original order once its agent is ready: the elderly customer first (60-s head
        // start), then the others by arrival.
        var served = new List<string>();
        var agent = await again.SetState("a-wait", "ready");
        for (var i = 0; i < 4; i++)
        {
            var sessionId = HostApi.Str(agent["offers"]![0]!, "sessionId");
            served.Add(sessionId);
            (await again.Post($"/v1/agents/a-wait/offers/{sessionId}/accept")).Success();
            agent = (await again.Post($"/v1/agents/a-wait/sessions/{sessionId}/end")).Success();   // no wrap-up: the next offer comes at once
        }

        Assert.Equal([elderly, o1, o2, o3], served);
        Assert.Empty(agent["offers"]!.AsArray());

        // Sessions held across the restart are still worked normally.
        Assert.Equal("wrap-up", HostApi.Str((await again.Post($"/v1/agents/a-talk/sessions/{talking}/end")).Success()["sessions"]![0]!, "state"));
        Assert.Empty((await again.Post($"/v1/agents/a-wrap/sessions/{wrapping}/wrap-up-done")).Success()["sessions"]!.AsArray());
        Assert.Equal("completed", HostApi.Str((await again.Get($"/v1/sessions/{wrapping}")).Success(), "state"));

        // A retry of a create from before the restart finds the same session (the idempotency key survived too).
        var retry = await again.Post("/v1/sessions",
            """{ "queueId": "wait", "channel": "voice", "customer": { "id": "c-private-o3", "age": 41 }, "skills": { "cards": 2 }, "attributes": { "ivr": "private-note" } }""",
            "key-o3");
        Assert.Equal(System.Net.HttpStatusCode.OK, retry.Status);
        Assert.Equal(o3, HostApi.Str(retry.Success(), "id"));

        // The analysts' table: one row per session, in the state the API shows, with no customer identifier in a column.
        await AssertSessionTableAsync(settings.ConnectionString, again, [.. sessions.Keys, offered]);
    }

    private async Task AssertSessionTableAsync(string connectionString, HostApi api, IReadOnlyCollection<string> ids)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, state, agent_id, (to_jsonb(s) - 'payload')::text FROM routing_session s", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, (string State, string? AgentId, string Columns)>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3));
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, row) in rows)
        {
            var view = (await api.Get($"/v1/sessions/{id}")).Success();
            Assert.Equal(HostApi.Str(view, "state"), row.State);
            Assert.Equal(view["agentId"]?.GetValue<string>(), row.AgentId);
            Assert.DoesNotContain("c-private", row.Columns, StringComparison.Ordinal);
            Assert.DoesNotContain("private-note", row.Columns, StringComparison.Ordinal);
        }

        output.WriteLine($"routing_session rows: {rows.Count} ({string.Join(", ", rows.Values.GroupBy(r => r.State).Select(g => $"{g.Key} {g.Count()}"))})");
    }

    private static string Id(JsonNode session) => HostApi.Str(session, "id");

    private static async Task<List<string>> StatesAsync(HostApi api, params string[] ids)
    {
        var states = new List<string>();
        foreach (var id in ids)
        {
            states.Add(HostApi.Str((await api.Get($"/v1/sessions/{id}")).Success(), "state"));
        }

        return states;
    }

    private static void AssertSameJson(JsonNode expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected.ToJsonString()}\n  but got {actual.ToJsonString()}");
}

/// <summary>
/// The same promise when the silos die instead of stopping: every silo host process of the cluster is killed with
/// SIGKILL (nothing written on the way out) right after the last request was answered, and started again on the same
/// database. Every view the test got back from a successful request (the answers of its writes, and its reads after
/// the last write) is what the restarted cluster returns, field for field.
/// </summary>
[Collection(nameof(SiloProcessCollection))]
public sealed class KillRestartTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    private const int Silos = 2;

    /// <summary>Sessions that only wait, created through both silos, to give recovery some volume.</summary>
    private const int BulkSessions = 40;

    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Resource path → the last view of it a successful request answered with (a write's answer, or a read).</summary>
    private readonly Dictionary<string, JsonNode> _acknowledged = new(StringComparer.Ordinal);

    [Fact]
    public async Task KillNineOfEverySiloProcess_ThenRestart_ReturnsEveryAcknowledgedViewExactly()
    {
        var total = Stopwatch.StartNew();
        var connectionString = await postgres.CreateSchemaAsync("killrestart");
        var silos = Enumerable.Range(0, Silos).Select(i => new SiloProcess(i, connectionString)).ToArray();
        try
        {
            await StartAllAsync(silos);
            output.WriteLine($"{Silos} silos ready in {total.ElapsedMilliseconds} ms");
            var apis = silos.Select(s => new HostApi(new HttpClient(TestTokens.Handler(new HttpClientHandler())) { BaseAddress = s.BaseAddress, Timeout = TimeSpan.FromSeconds(10) })).ToArray();
            HostApi Via(int i) => apis[i % apis.Length];

            // Queues and agents, written through both silos; each answer is the view acknowledged for it.
            await Write(Via(0), HttpMethod.Put, "/v1/queues/k-wait", """{ "name": "Waiting", "wrapUpSeconds": 0 }""", "/v1/queues/k-wait");
            await Write(Via(1), HttpMethod.Put, "/v1/queues/k-talk", """{ "name": "Long wrap-up", "wrapUpSeconds": 3600 }""", "/v1/queues/k-talk");
            await Write(Via(0), HttpMethod.Put, "/v1/queues/k-bulk", """{ "name": "Volume" }""", "/v1/queues/k-bulk");
            foreach (var (agent, queue, i) in new[] { ("k-talk", "k-talk", 0), ("k-wrap", "k-talk", 1), ("k-done", "k-wait", 0), ("k-away", "k-bulk", 1) })
            {
                await Write(Via(i), HttpMethod.Put, $"/v1/agents/{agent}", $$"""{ "name": "Agent {{agent}}", "skills": { "cards": 4 }, "queues": [ "{{queue}}" ] }""", $"/v1/agents/{agent}");
            }

            await Write(Via(1), HttpMethod.Post, "/v1/agents/k-away/state", """{ "state": "not-ready", "reason": "training" }""", "/v1/agents/k-away");

            // Waiting sessions (nobody ready on their queue), one of them created with an idempotency key, and one abandoned.
            var waiting = new List<string>();
            for (var i = 0; i < BulkSessions; i++)
            {
                var key = i == 0 ? "k-key-0" : null;
                var view = await Write(Via(i), HttpMethod.Post, "/v1/sessions",
                    $$"""{ "queueId": "k-bulk", "channel": "{{(i % 3 == 0 ? "chat" : "voice")}}", "customer": { "id": "c-private-k{{i}}", "age": {{(i % 2 == 0 ? 80 : 30)}} }, "skills": { "cards": 2 } }""",
                    null, key);
                waiting.Add(Track(view));
            }

            var gone = Track(await Write(Via(1), HttpMethod.Post, "/v1/sessions", """{ "queueId": "k-bulk", "channel": "voice", "customer": { "id": "c-private-gone" } }""", null));
            Assert.Equal("abandoned", HostApi.Str(await Write(Via(0), HttpMethod.Post, $"/v1/sessions/{gone}/abandon", null, $"/v1/sessions/{gone}"), "state"));

            // Connected (k-talk), wrap-up (k-wrap) and completed (k-done, back to ready with nothing to offer).
            var talking = await AnswerAsync(Via(0), "k-talk", "k-talk", end: false);
            var wrapping = await AnswerAsync(Via(1), "k-wrap", "k-talk", end: true);
            var done = await AnswerAsync(Via(0), "k-done", "k-wait", end: true);

            // The reads after the last write: acknowledged views of every session, agent and queue.
            var paths = _acknowledged.Keys.ToList();
            foreach (var (path, i) in paths.Select((p, i) => (p, i)))
            {
                var read = (await Via(i).Get(path)).Success();
                if (_acknowledged.TryGetValue(path, out var written) && !path.StartsWith("/v1/sessions/", StringComparison.Ordinal))
                {
                    // An agent's or a queue's last write answered with its whole view: a read says the same.
                    AssertSameJson(path + " (read after its write)", written, read);
                }

                _acknowledged[path] = read;
            }

            Assert.Equal(["connected", "wrap-up", "completed", "abandoned"],
                new[] { talking, wrapping, done, gone }.Select(id => HostApi.Str(_acknowledged[$"/v1/sessions/{id}"], "state")));

            // ---- SIGKILL of every silo process, at once, right after the last answer ----
            var kill = Stopwatch.StartNew();
            foreach (var silo in silos)
            {
                silo.Kill();
            }

            output.WriteLine($"killed {Silos} silos ({_acknowledged.Count} acknowledged views) in {kill.ElapsedMilliseconds} ms");
            kill.Restart();

            // All at once, on their ports: each finds its own row of before the kill and takes over from it, and none
            // waits for the others' rows to be declared dead.
            foreach (var silo in silos)
            {
                silo.Start();
            }

            await Task.WhenAll(silos.Select(s => s.WaitReadyAsync(ReadyWithin)));
            output.WriteLine($"restarted cluster ready {kill.ElapsedMilliseconds} ms after the kill");

            // Every acknowledged view, field for field, through both restarted silos.
            var differences = new List<string>();
            foreach (var (path, i) in _acknowledged.Keys.Select((p, i) => (p, i)))
            {
                var reply = await GetWithRetryAsync(Via(i), path);
                if (!reply.IsSuccess || reply.Json is null)
                {
                    differences.Add($"{path}: {(int)reply.Status} {reply.Body}");
                }
                else if (!JsonNode.DeepEquals(_acknowledged[path], reply.Json))
                {
                    differences.Add($"{path}:\n    acknowledged {_acknowledged[path].ToJsonString()}\n    restarted    {reply.Json.ToJsonString()}");
                }
            }

            Assert.True(differences.Count == 0, $"{differences.Count} of {_acknowledged.Count} acknowledged views differ after the kill and restart:\n  " + string.Join("\n  ", differences.Take(20)));

            // A retry of a create acknowledged before the kill finds the same session.
            var retry = await Via(1).Post("/v1/sessions",
                """{ "queueId": "k-bulk", "channel": "chat", "customer": { "id": "c-private-k0", "age": 80 }, "skills": { "cards": 2 } }""", "k-key-0");
            Assert.Equal(System.Net.HttpStatusCode.OK, retry.Status);
            Assert.Equal(waiting[0], HostApi.Str(retry.Success(), "id"));
            output.WriteLine($"total {total.ElapsedMilliseconds} ms");
        }
        catch
        {
            foreach (var silo in silos)
            {
                output.WriteLine(silo.Tail());
            }

            throw;
        }
        finally
        {
            foreach (var silo in silos)
            {
                silo.Dispose();
            }
        }
    }

    /// <summary>The first silo migrates the schema; the others join once it answers.</summary>
    private static async Task StartAllAsync(SiloProcess[] silos)
    {
        silos[0].Start();
        await silos[0].WaitReadyAsync(ReadyWithin);
        foreach (var silo in silos.Skip(1))
        {
            silo.Start();
            await silo.WaitReadyAsync(ReadyWithin);
        }
    }

    /// <summary>A session of <paramref name="queue"/> answered by <paramref name="agent"/> (made ready for it), and ended
    /// when <paramref name="end"/>; the agent's answers are its acknowledged views.</summary>
    private async Task<string> AnswerAsync(HostApi api, string agent, string queue, bool end)
    {
        await Write(api, HttpMethod.Post, $"/v1/agents/{agent}/state", """{ "state": "ready" }""", $"/v1/agents/{agent}");
        var id = Track(await Write(api, HttpMethod.Post, "/v1/sessions", $$"""{ "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-private-{{agent}}" }, "skills": { "cards": 2 } }""", null));
        await api.PollUntil($"/v1/sessions/{id}", s => s["agentId"]?.GetValue<string>() == agent && HostApi.Str(s, "state") == "offered", Deadline, $"offered to {agent}");
        await Write(api, HttpMethod.Post, $"/v1/agents/{agent}/offers/{id}/accept", null, $"/v1/agents/{agent}");
        if (end)
        {
            await Write(api, HttpMethod.Post, $"/v1/agents/{agent}/sessions/{id}/end", null, $"/v1/agents/{agent}");
        }

        // The session changed after its create was answered: its acknowledged view is the read after the last write.
        _acknowledged.Remove($"/v1/sessions/{id}");
        _acknowledged[$"/v1/sessions/{id}"] = (await api.Get($"/v1/sessions/{id}")).Success();
        return id;
    }

    /// <summary>A write that must succeed; its answer becomes the acknowledged view of <paramref name="path"/> (when given).</summary>
    private async Task<JsonNode> Write(HostApi api, HttpMethod method, string request, string? json, string? path, string? idempotencyKey = null)
    {
        var reply = await api.Send(method, request, json, idempotencyKey);
        var view = reply.Success();
        if (path is not null)
        {
            _acknowledged[path] = view;
        }

        return view;
    }

    /// <summary>A created session's answer is its acknowledged view.</summary>
    private string Track(JsonNode session)
    {
        var id = HostApi.Str(session, "id");
        _acknowledged[$"/v1/sessions/{id}"] = session;
        return id;
    }

    /// <summary>A read of the restarted cluster, retried while it still answers 5xx or not at all (at most 20 s).</summary>
    private static async Task<Reply> GetWithRetryAsync(HostApi api, string path)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                var reply = await api.Get(path);
                if ((int)reply.Status < 500 || DateTime.UtcNow > deadline)
                {
                    return reply;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && DateTime.UtcNow <= deadline)
            {
            }

            await Task.Delay(200);
        }
    }

    private static void AssertSameJson(string what, JsonNode expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"{what}: expected {expected.ToJsonString()}\n  but got {actual.ToJsonString()}");
}
