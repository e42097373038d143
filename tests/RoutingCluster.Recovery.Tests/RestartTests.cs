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
