using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>A queue's alert bounds in its configuration: stored and answered as given, each optional, and checked field by field.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class QueueAlertsConfigTests(SiloHostFactory factory)
{
    private readonly HostApi _api = new(factory.CreateClient());

    [Fact]
    public async Task PutQueue_WithAlerts_AnswersAndKeepsThem()
    {
        var queue = HostApi.NewId("q");
        var put = (await _api.Put($"/v1/queues/{queue}", """{ "alerts": { "longestWaitSeconds": 60, "serviceLevelBelow": 0.8 } }""")).Ok();
        var got = (await _api.Get($"/v1/queues/{queue}")).Ok();

        foreach (var answer in new[] { put, got })
        {
            var alerts = answer["alerts"]!;
            Assert.Equal(60, alerts["longestWaitSeconds"]!.GetValue<double>());
            Assert.Equal(0.8, alerts["serviceLevelBelow"]!.GetValue<double>());
            Assert.Null(alerts["elderlyLongestWaitSeconds"]);
            Assert.Null(alerts["waitingAbove"]);
        }
    }

    [Fact]
    public async Task PutQueue_WithoutAlerts_AnswersEveryBoundOff()
    {
        var alerts = (await _api.Put($"/v1/queues/{HostApi.NewId("q")}", "{}")).Ok()["alerts"]!.AsObject();

        Assert.Equal(["longestWaitSeconds", "elderlyLongestWaitSeconds", "serviceLevelBelow", "waitingAbove"], alerts.Select(kv => kv.Key));
        Assert.All(alerts, kv => Assert.Null(kv.Value));
    }

    [Theory]
    [InlineData("""{ "serviceLevelBelow": 1.5 }""", "alerts.serviceLevelBelow")]
    [InlineData("""{ "serviceLevelBelow": -0.1 }""", "alerts.serviceLevelBelow")]
    [InlineData("""{ "longestWaitSeconds": -1 }""", "alerts.longestWaitSeconds")]
    [InlineData("""{ "elderlyLongestWaitSeconds": "30" }""", "alerts.elderlyLongestWaitSeconds")]
    [InlineData("""{ "waitingAbove": -1 }""", "alerts.waitingAbove")]
    [InlineData("""{ "waitingAbove": 2.5 }""", "alerts.waitingAbove")]
    [InlineData("""{ "waitingabove": 5 }""", "alerts.waitingabove")]
    public async Task PutQueue_WithABadAlertBound_Answers400NamingIt_AndChangesNothing(string alerts, string field)
    {
        var queue = HostApi.NewId("q");
        await _api.PutQueue(queue, """{ "alerts": { "waitingAbove": 7 } }""");

        (await _api.Put($"/v1/queues/{queue}", $$"""{ "alerts": {{alerts}} }""")).ValidationProblem(field);

        Assert.Equal(7, (await _api.Get($"/v1/queues/{queue}")).Ok()["alerts"]!["waitingAbove"]!.GetValue<int>());
    }
}
