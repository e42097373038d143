using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>The stats routes' parameters are read strictly: every problem names its parameter, and an unknown queue is 404.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class StatsApiTests(SiloHostFactory factory)
{
    private readonly HostApi _api = new(factory.CreateClient());

    [Theory]
    [InlineData("/v1/stats?groupBy=week", "groupBy")]
    [InlineData("/v1/stats?groupBy=Queue", "groupBy")]
    [InlineData("/v1/stats?from=yesterday", "from")]
    [InlineData("/v1/stats?to=2026-13-01T00:00:00Z", "to")]
    [InlineData("/v1/stats?from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z", "from")]
    [InlineData("/v1/stats?from=2026-11-23T10:00:00Z&to=2026-11-23T10:00:00Z", "from")]
    [InlineData("/v1/stats?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to")]
    [InlineData("/v1/stats?queue=cards", "queue")]
    [InlineData("/v1/stats?groupBy=queue&groupBy=agent", "groupBy")]
    [InlineData("/v1/queues/cards/stats?groupBy=queue", "groupBy")]
    [InlineData("/v1/queues/cards/stats?from=0", "from")]
    public async Task Stats_WithABadParameter_Answer400NamingIt(string path, string field) =>
        (await _api.Get(path)).ValidationProblem(field);

    [Fact]
    public async Task QueueStats_OfAnUnknownQueue_Answer404() =>
        (await _api.Get($"/v1/queues/{HostApi.NewId("nowhere")}/stats")).Problem(HttpStatusCode.NotFound);

    [Fact]
    public async Task QueueStats_OfANewQueue_AreZeroWithNullRates()
    {
        var queue = await _api.PutQueue(HostApi.NewId("fresh"), """{ "serviceLevelSeconds": 30 }""");
        var stats = (await _api.Get($"/v1/queues/{queue}/stats")).Ok();

        Assert.Equal(queue, stats.Str("queueId"));
        Assert.Equal(30, stats["serviceLevelSeconds"]!.GetValue<double>());
        Assert.Equal(0, stats["offered"]!.GetValue<long>());
        Assert.Null(stats["answerRate"]);
        Assert.Null(stats["serviceLevel"]);
        Assert.Null(stats["averageSpeedOfAnswerSeconds"]);
        Assert.Empty(stats["bySegment"]!.AsObject());
    }

    [Fact]
    public async Task ClusterStats_GroupedByInterval_KeyEachGroupByItsStart()
    {
        var stats = (await _api.Get("/v1/stats?groupBy=interval&from=2026-11-23T08:07:00Z&to=2026-11-23T09:00:00Z")).Ok();

        Assert.Equal("interval", stats.Str("groupBy"));
        Assert.Equal("2026-11-23T08:00:00Z", stats.Str("from")); // the interval that holds "from"
        Assert.All(stats.Arr("groups"), g => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:(00|15|30|45):00Z$", g!.Str("key")));
    }
}
