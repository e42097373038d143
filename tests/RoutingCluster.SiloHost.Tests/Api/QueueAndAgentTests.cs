using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>Queue and agent configuration as admins set it.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class QueueAndAgentTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task PutQueue_WithAnEmptyBody_TakesTheContractDefaults()
    {
        var queue = HostApi.NewId("q");

        var put = (await _api.Put($"/v1/queues/{queue}", "{}")).Ok();

        var expected = JsonNode.Parse($$"""
            { "id": "{{queue}}", "name": null, "serviceLevelSeconds": 20, "offerTimeoutSeconds": 15,
              "wrapUpSeconds": 10, "elderlyAge": 65,
              "headStart": { "elderly": 60, "disabled": 60, "military": 60, "vip": 30 },
              "agentSelection": "longest-idle", "relaxation": [],
              "maxWaiting": 10000, "maxWaitSeconds": 900, "overflowQueueId": null,
              "alerts": { "longestWaitSeconds": null, "elderlyLongestWaitSeconds": null, "serviceLevelBelow": null, "waitingAbove": null },
              "callbackOffer": null }
            """);
        Assert.True(JsonNode.DeepEquals(expected, put), put.ToJsonString());
        Assert.True(JsonNode.DeepEquals(expected, (await _api.Get($"/v1/queues/{queue}")).Ok()));
    }

    [Fact]
    public async Task PutQueue_KeepsStrictHeadStarts_AndSortsRelaxationSteps()
    {
        var queue = HostApi.NewId("q");

        await _api.Put($"/v1/queues/{queue}", """
            { "name": "Cards", "headStart": { "elderly": "strict", "vip": 45 }, "agentSelection": "most-skilled",
              "relaxation": [ { "afterSeconds": 60, "lowerBy": 2 }, { "afterSeconds": 30, "lowerBy": 1 } ],
              "overflowQueueId": "cards-overflow" }
            """);
        var config = (await _api.Get($"/v1/queues/{queue}")).Ok();

        Assert.Equal("strict", config["headStart"]!["elderly"]!.GetValue<string>());
        Assert.Equal(45, config["headStart"]!["vip"]!.GetValue<double>());
        Assert.Equal(60, config["headStart"]!["disabled"]!.GetValue<double>());
        Assert.Equal("most-skilled", config.Str("agentSelection"));
        Assert.Equal([30d, 60d], config.Arr("relaxation").Select(s => s!["afterSeconds"]!.GetValue<double>()));
        Assert.Equal("cards-overflow", config.Str("overflowQueueId"));
    }

    [Fact]
    public async Task PutAgent_AnswersTheProfile_WithKebabCaseChannels()
    {
        var agent = HostApi.NewId("a");

        var view = (await _api.Put($"/v1/agents/{agent}", """
            { "name": "Li Wei", "skills": { "cards": 4, "mandarin": 5 }, "queues": [ "cards" ], "capacity": { "voice": 1, "chat": 3, "5g": 2 } }
            """)).Ok();

        Assert.Equal("logged-out", view.Str("state"));
        Assert.Equal(2, view["capacity"]!["5g"]!.GetValue<int>());
        Assert.Equal(5, view["skills"]!["mandarin"]!.GetValue<int>());
        Assert.Equal(["cards"], view.Arr("queues").Select(q => q!.GetValue<string>()));
    }

    [Fact]
    public async Task SetState_NotReadyWithReason_IsShown()
    {
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, HostApi.NewId("q"));

        var view = await _api.SetState(agent, "not-ready", "training");

        Assert.Equal("not-ready", view.Str("state"));
        Assert.Equal("training", view.Str("reason"));
    }
}
