using System.Globalization;
using System.Text.Json.Nodes;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// Callbacks are durable like any session: after a full restart on the same database, immediate callbacks keep their
/// places among the customers on the line, and a scheduled callback is still scheduled, offered at its time, as a callback.
/// </summary>
public sealed class CallbackRestartTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>How far ahead the scheduled callback is: past the restart, so it is still scheduled when the new host starts.</summary>
    private static readonly TimeSpan ScheduledAhead = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task FullRestart_KeepsCallbacks_InTheirPlaces_AndAScheduledOneUntilItsTime()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("callback"));
        var before = new Dictionary<string, JsonNode>();
        string o1, c1, elderly, o2, scheduled;
        DateTimeOffset at;

        var first = RecoveryHost.Create(settings);
        await using (first.ConfigureAwait(true))
        {
            var api = new HostApi(first.CreateClient());
            await api.PutQueue("cbq", """{ "wrapUpSeconds": 0, "maxWaitSeconds": 3600 }""");
            await api.PutAgent("a-cb", "cbq");

            // In arrival order: on the line, callback, elderly callback (60-s head start), on the line, scheduled callback.
            o1 = Id(await api.CreateSessionOf("cbq", "c-private-o1"));
            c1 = Id(await api.CreateSessionOf("cbq", "c-private-c1"));
            elderly = Id(await api.CreateSessionOf("cbq", "c-private-elderly", age: 80));
            o2 = Id(await api.CreateSessionOf("cbq", "c-private-o2"));
            scheduled = Id(await api.CreateSessionOf("cbq", "c-private-scheduled"));
            (await api.Post($"/v1/sessions/{c1}/callback", """{ "at": null }""")).Success();
            (await api.Post($"/v1/sessions/{elderly}/callback", """{ "at": null }""")).Success();
            at = DateTimeOffset.UtcNow + ScheduledAhead;
            var atText = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            (await api.Post($"/v1/sessions/{scheduled}/callback", $$"""{ "at": "{{atText}}" }""")).Success();
            foreach (var id in new[] { o1, c1, elderly, o2, scheduled })
            {
                before[id] = (await api.Get($"/v1/sessions/{id}")).Success();
            }
        }

        await using var second = RecoveryHost.Create(settings);
        var again = new HostApi(second.CreateClient());
        await again.PollUntil("/v1/queues/cbq", _ => true, Deadline, "the restarted host answers");
        var restartedAt = DateTimeOffset.UtcNow;
        output.WriteLine($"restarted {(at - restartedAt).TotalSeconds:F1} s before the scheduled callback");

        // Every view as it was, callbacks included.
        foreach (var (id, view) in before)
        {
            var now = (await again.Get($"/v1/sessions/{id}")).Success();
            Assert.True(JsonNode.DeepEquals(view, now), $"expected {view.ToJsonString()}\n  but got {now.ToJsonString()}");
        }

        Assert.NotNull(before[c1]["callback"]);
        Assert.Equal(before[scheduled]["callback"]!["at"]!.GetValue<string>(), (await again.Get($"/v1/sessions/{scheduled}")).Success()["callback"]!["at"]!.GetValue<string>());

        // One agent serves the queue in its order: the elderly callback first, then by arrival; the scheduled callback
        // only once its time has come.
        var served = new List<(string Id, string Kind)>();
        var agent = await again.SetState("a-cb", "ready");
        for (var i = 0; i < 4; i++)
        {
            var offer = agent["offers"]![0]!;
            var sessionId = HostApi.Str(offer, "sessionId");
            served.Add((sessionId, HostApi.Str(offer, "kind")));
            (await again.Post($"/v1/agents/a-cb/offers/{sessionId}/accept")).Success();
            agent = (await again.Post($"/v1/agents/a-cb/sessions/{sessionId}/end")).Success();
        }

        Assert.Equal([(elderly, "callback"), (o1, "inbound"), (c1, "callback"), (o2, "inbound")], served);
        if (DateTimeOffset.UtcNow < at - TimeSpan.FromSeconds(1))
        {
            Assert.Empty(agent["offers"]!.AsArray());
        }

        var last = await again.PollUntil("/v1/agents/a-cb", a => a["offers"]!.AsArray().Count == 1, ScheduledAhead + Deadline, "the scheduled callback is offered");
        Assert.True(DateTimeOffset.UtcNow >= at, "the scheduled callback was offered before its time");
        Assert.Equal(scheduled, HostApi.Str(last["offers"]![0]!, "sessionId"));
        Assert.Equal("callback", HostApi.Str(last["offers"]![0]!, "kind"));
    }

    private static string Id(JsonNode session) => HostApi.Str(session, "id");
}
