using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// The curl walk-through of docs/api.md ("Walk-through (curl)"; README.md shows its first steps), step by step,
/// against the real host.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class WalkthroughTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Walkthrough_ElderlyCustomerIsServedFirst_ThenTheOrdinaryOne()
    {
        var queue = HostApi.NewId("cards");
        var agent = HostApi.NewId("a-17");

        // PUT /v1/queues/cards (defaults) and PUT /v1/agents/a-17 (skills cards 4, serves cards).
        var config = (await _api.Put($"/v1/queues/{queue}", """{ "name": "Cards" }""")).Ok();
        Assert.Equal(queue, config.Str("id"));
        Assert.Equal(60, config["headStart"]!["elderly"]!.GetValue<double>());
        var profile = (await _api.Put($"/v1/agents/{agent}", $$"""{ "name": "Li Wei", "skills": { "cards": 4 }, "queues": [ "{{queue}}" ] }""")).Ok();
        Assert.Equal("logged-out", profile.Str("state"));

        // An ordinary customer, then an elderly one (age 72), while no agent is ready.
        var ordinary = await _api.Post("/v1/sessions", $$"""
            { "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-1" }, "skills": { "cards": 2 } }
            """);
        Assert.Equal(HttpStatusCode.Created, ordinary.Status);
        var ordinaryId = ordinary.Json!.Str("id");
        Assert.Equal($"/v1/sessions/{ordinaryId}", ordinary.Headers.Location?.OriginalString);
        Assert.Equal("queued", ordinary.Json!.Str("state"));

        var elderly = await _api.Post("/v1/sessions", $$"""
            { "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-9", "age": 72 },
              "skills": { "cards": 2 }, "attributes": { "ivr": "loss" } }
            """);
        Assert.Equal(HttpStatusCode.Created, elderly.Status);
        var elderlyId = elderly.Json!.Str("id");
        Assert.Equal(["elderly"], elderly.Json!.Arr("segments").Select(s => s!.GetValue<string>()));

        // The agent becomes ready: the elderly customer is offered first, although the other came first.
        var ready = await _api.SetState(agent, "ready");
        Assert.Equal("ready", ready.Str("state"));
        var offers = (await _api.Get($"/v1/agents/{agent}")).Ok().Arr("offers");
        Assert.Equal(elderlyId, Assert.Single(offers)!.Str("sessionId"));

        var offered = (await _api.Get($"/v1/sessions/{elderlyId}")).Ok();
        Assert.Equal("offered", offered.Str("state"));
        Assert.Equal(agent, offered.Str("agentId"));
        var why = offered["explanation"]!;
        Assert.Equal(agent, why.Str("agentId"));
        Assert.Equal(60, why["headStart"]!.GetValue<double>());
        Assert.True(why["score"]!.GetValue<double>() >= 60);
        Assert.Equal("longest-idle", why.Str("strategy"));
        Assert.Equal(4, why["agentSkills"]!["cards"]!.GetValue<int>());
        Assert.Equal("queued", (await _api.Get($"/v1/sessions/{ordinaryId}")).Ok().Str("state"));

        // Accept -> connected; end -> wrap-up; wrap-up done -> completed.
        var accepted = (await _api.Post($"/v1/agents/{agent}/offers/{elderlyId}/accept")).Ok();
        Assert.Equal("connected", Assert.Single(accepted.Arr("sessions"))!.Str("state"));
        Assert.Equal("connected", (await _api.Get($"/v1/sessions/{elderlyId}")).Ok().Str("state"));

        var ended = (await _api.Post($"/v1/agents/{agent}/sessions/{elderlyId}/end")).Ok();
        Assert.Equal("wrap-up", Assert.Single(ended.Arr("sessions"))!.Str("state"));
        Assert.Equal("wrap-up", (await _api.Get($"/v1/sessions/{elderlyId}")).Ok().Str("state"));

        var free = (await _api.Post($"/v1/agents/{agent}/sessions/{elderlyId}/wrap-up-done")).Ok();
        var completed = (await _api.Get($"/v1/sessions/{elderlyId}")).Ok();
        Assert.Equal("completed", completed.Str("state"));
        Assert.NotNull(completed.StrOrNull("answeredAt"));
        Assert.NotNull(completed.StrOrNull("completedAt"));

        // The agent is free again: now the ordinary customer is offered.
        Assert.Empty(free.Arr("sessions"));
        Assert.Equal(ordinaryId, Assert.Single(free.Arr("offers"))!.Str("sessionId"));
        Assert.Equal("offered", (await _api.Get($"/v1/sessions/{ordinaryId}")).Ok().Str("state"));
    }
}
