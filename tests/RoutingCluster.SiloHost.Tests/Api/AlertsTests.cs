using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// Alerts through the host, in virtual time: a queue is driven out of each of its bounds and back, and
/// <c>GET /v1/alerts</c> shows each alert raised when its condition holds and cleared 10 s after it stopped holding.
/// </summary>
public sealed class AlertsTests(AlertsHost host) : IClassFixture<AlertsHost>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Alerts_QueueDrivenOverEachBoundAndBack_AreRaisedThenClearedTenSecondsLater()
    {
        var queue = await _api.PutQueue(HostApi.NewId("alerted"), """
            { "serviceLevelSeconds": 20, "wrapUpSeconds": 10,
              "alerts": { "longestWaitSeconds": 60, "elderlyLongestWaitSeconds": 30, "serviceLevelBelow": 0.5, "waitingAbove": 1 } }
            """);
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await host.At(100);

        // Over: an elderly and an ordinary customer wait with nobody ready. Two waiting (> 1), and the day's
        // service level is 0 of 2 (< 0.5).
        var elderly = await _api.CreateSession(queue, age: 72);
        var ordinary = await _api.CreateSession(queue);
        await host.At(101); // the silo's statistics reach the cluster's figures every (virtual) second
        var raised = await AlertsOf(queue, a => a.Count == 2);
        Assert.Equal(["service-level", "waiting"], raised.Select(a => a.Str("kind")));
        var waiting = raised.Single(a => a.Str("kind") == "waiting");
        Assert.Equal(2, waiting["value"]!.GetValue<double>());
        Assert.Equal(1, waiting["threshold"]!.GetValue<double>());
        Assert.Contains(waiting.Str("since"), new[] { "2026-11-23T08:01:40Z", "2026-11-23T08:01:41Z" });
        Assert.Equal(0, raised.Single(a => a.Str("kind") == "service-level")["value"]!.GetValue<double>());
        Assert.Equal(0.5, raised.Single(a => a.Str("kind") == "service-level")["threshold"]!.GetValue<double>());

        await host.At(131);
        var elderlyWait = (await AlertsOf(queue, a => a.Count == 3)).Single(a => a.Str("kind") == "elderly-longest-wait");
        Assert.True(elderlyWait["value"]!.GetValue<double>() > 30);
        Assert.Equal(30, elderlyWait["threshold"]!.GetValue<double>());

        await host.At(161);
        var all = await AlertsOf(queue, a => a.Count == 4);
        Assert.Equal(["longest-wait", "elderly-longest-wait", "service-level", "waiting"], all.Select(a => a.Str("kind")));
        Assert.Equal(60, all[0]!["threshold"]!.GetValue<double>());

        // Back: the elderly customer is answered, the other hangs up, and two customers are answered at once
        // (2 of 4 within 20 s: 0.5, no longer below). Every alert stays raised for 10 s after that.
        var ready = await _api.SetState(agent, "ready");
        Assert.Equal(elderly, Assert.Single(ready.Arr("offers"))!.Str("sessionId"));
        (await _api.Post($"/v1/agents/{agent}/offers/{elderly}/accept")).Ok();
        (await _api.Post($"/v1/sessions/{ordinary}/abandon")).Ok();
        await AnswerAtOnce(queue, agent, after: elderly);
        await AnswerAtOnce(queue, agent, after: null);
        await host.At(165);
        await AlertsOf(queue, a => a.Count == 4 && a.All(alert => alert.Str("kind") != "waiting" || alert["value"]!.GetValue<double>() == 0));

        await host.At(176);
        await AlertsOf(queue, a => a.Count == 0);
    }

    [Fact]
    public async Task Alerts_OfAQueueWithoutBounds_AreNeverRaised()
    {
        var queue = await _api.PutQueue(HostApi.NewId("calm"));
        await _api.CreateSession(queue);
        await _api.CreateSession(queue);

        var alerts = (await _api.Get("/v1/alerts")).Ok().AsArray();

        Assert.DoesNotContain(alerts, a => a!.Str("queueId") == queue);
    }

    /// <summary>Ends what the agent holds (if anything), finishes wrap-up, and has it answer a new customer at once.</summary>
    private async Task AnswerAtOnce(string queue, string agent, string? after)
    {
        if (after is not null)
        {
            (await _api.Post($"/v1/agents/{agent}/sessions/{after}/end")).Ok();
            (await _api.Post($"/v1/agents/{agent}/sessions/{after}/wrap-up-done")).Ok();
        }

        var session = await _api.CreateSession(queue);
        await _api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Any(o => o!.Str("sessionId") == session));
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Ok();
        (await _api.Post($"/v1/agents/{agent}/sessions/{session}/end")).Ok();
        (await _api.Post($"/v1/agents/{agent}/sessions/{session}/wrap-up-done")).Ok();
    }

    /// <summary>The queue's active alerts, once <paramref name="done"/> holds for them (checked every second by the host).</summary>
    private async Task<List<JsonNode>> AlertsOf(string queue, Func<List<JsonNode>, bool> done)
    {
        List<JsonNode> Of(JsonNode all) => [.. all.AsArray().Where(a => a!.Str("queueId") == queue).Select(a => a!)];
        return Of(await _api.PollUntil("/v1/alerts", all => done(Of(all)), Within));
    }
}

/// <summary>A host of its own on a virtual clock, so that waits and the 10 s before a clear pass at once.</summary>
public sealed class AlertsHost() : SiloHostFactory(new SiloHostOptions { VirtualTime = true });
