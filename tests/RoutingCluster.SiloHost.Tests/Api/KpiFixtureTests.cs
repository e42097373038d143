using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// A scripted morning in virtual time whose every KPI was computed by hand (below), checked against the API.
/// The host is this class's own, so the cluster-wide figures are this script's alone.
/// </summary>
/// <remarks>
/// Queue "kpi" (service level 20 s, wrap-up 10 s). Agents a1 (ready at 0) and a2 (not ready from 60). Times are
/// seconds after 08:00:00Z; all three sessions start waiting in the 08:00 interval.
/// <code>
///  t    event                                         a1 activity
///  0    a1 ready; s1 (voice, age 70: elderly) arrives  ringing (offered s1 at once; idle 0 s)
///  5    a1 accepts s1            speed 5 s  (within 20) busy
///  10   s2 (voice, no segment) arrives, waits
///  20   s3 (voice, age 80: elderly) arrives, waits
///  30   s3 abandons (waited 10 s)
///  60   a2 not ready
///  65   a1 ends s1               talk 60 s              wrap-up
///  75   wrap-up over (10 s); s2 offered to a1          ringing
///  80   a1 accepts s2            speed 70 s (not within) busy
///  110  a1 ends s2               talk 30 s              wrap-up
///  120  wrap-up over (10 s)                            idle
///  150  a1 not ready                                   not ready
///  180  query
/// </code>
/// Queue: offered 3, answered 2 (s1, s2), within threshold 1 (s1), abandoned 1 (s3).
///   answer rate 2/3; service level 1/3; ASA (5 + 70) / 2 = 37.5 s; talk (60 + 30) / 2 = 45 s; ACW (10 + 10) / 2 = 10 s.
/// a1 time: idle 0 + 30 (120..150), ringing 5 + 5, busy 60 + 30, wrap-up 10 + 10, not ready 30 (150..180):
///   logged in 180 s, working 150 s, occupancy 150/180 = 0.8333; daily handled 2 / ((180/3600) / 8) = 320.
/// a2 time: not ready 120 s (60..180): occupancy 0; daily handled 0.
/// Queue and cluster agent time: working 150 of 300 s logged in: occupancy 0.5; 300 s = 1/12 h; daily handled 2 / ((1/12) / 8) = 192.
/// Elderly (s1, s3): offered 2, answered 1, within 1, abandoned 1: answer rate 0.5, service level 0.5, ASA 5, talk 60, ACW 10.
/// </remarks>
public sealed class KpiFixtureTests(KpiMorning host) : IClassFixture<KpiMorning>
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task QueueStats_MatchTheHandComputedFigures()
    {
        var stats = (await _api.Get("/v1/queues/kpi/stats")).Ok();

        Assert.Equal("kpi", stats.Str("queueId"));
        Assert.Equal("2026-11-23T00:00:00Z", stats.Str("from"));
        Assert.Equal(20, Num(stats, "serviceLevelSeconds"));
        Assert.Equal(0, Num(stats, "waiting"));
        Assert.Equal(0, Num(stats, "agentsReady"));
        Assert.Equal(0, Num(stats, "agentsBusy"));
        Assert.Equal(2, Num(stats, "agentsNotReady"));
        AssertFigures(stats, offered: 3, answered: 2, within: 1, abandoned: 1,
            answerRate: 2.0 / 3, serviceLevel: 1.0 / 3, asa: 37.5, talk: 45, acw: 10,
            occupancy: 0.5, loggedInHours: 300.0 / 3600, dailyHandled: 192);

        var elderly = stats["bySegment"]!["elderly"]!;
        AssertFigures(elderly, offered: 2, answered: 1, within: 1, abandoned: 1,
            answerRate: 0.5, serviceLevel: 0.5, asa: 5, talk: 60, acw: 10, occupancy: null, loggedInHours: null, dailyHandled: null);
        Assert.Equal(0, Num(elderly, "waiting"));

        var voice = stats["byChannel"]!["voice"]!;
        AssertFigures(voice, offered: 3, answered: 2, within: 1, abandoned: 1,
            answerRate: 2.0 / 3, serviceLevel: 1.0 / 3, asa: 37.5, talk: 45, acw: 10, occupancy: null, loggedInHours: null, dailyHandled: null);
    }

    [Fact]
    public async Task ClusterStats_ByAgent_MatchTheHandComputedFigures()
    {
        var stats = (await _api.Get("/v1/stats?groupBy=agent")).Ok();

        Assert.Equal("agent", stats.Str("groupBy"));
        AssertFigures(stats["total"]!, offered: 3, answered: 2, within: 1, abandoned: 1,
            answerRate: 2.0 / 3, serviceLevel: 1.0 / 3, asa: 37.5, talk: 45, acw: 10,
            occupancy: 0.5, loggedInHours: 300.0 / 3600, dailyHandled: 192);

        var groups = stats.Arr("groups").ToDictionary(g => g!.Str("key"), g => g!);
        Assert.Equal(["a1", "a2"], groups.Keys.Order());
        AssertFigures(groups["a1"], offered: 0, answered: 2, within: 1, abandoned: 0,
            answerRate: null, serviceLevel: null, asa: 37.5, talk: 45, acw: 10,
            occupancy: 150.0 / 180, loggedInHours: 180.0 / 3600, dailyHandled: 320);
        AssertFigures(groups["a2"], offered: 0, answered: 0, within: 0, abandoned: 0,
            answerRate: null, serviceLevel: null, asa: null, talk: null, acw: null,
            occupancy: 0, loggedInHours: 120.0 / 3600, dailyHandled: 0);
    }

    [Fact]
    public async Task ClusterStats_BySegmentAndInterval_MatchTheHandComputedFigures()
    {
        var bySegment = (await _api.Get("/v1/stats?groupBy=segment")).Ok();
        var elderly = Assert.Single(bySegment.Arr("groups"))!;
        Assert.Equal("elderly", elderly.Str("key"));
        AssertFigures(elderly, offered: 2, answered: 1, within: 1, abandoned: 1,
            answerRate: 0.5, serviceLevel: 0.5, asa: 5, talk: 60, acw: 10, occupancy: null, loggedInHours: null, dailyHandled: null);

        var byInterval = (await _api.Get("/v1/stats?groupBy=interval&from=2026-11-23T08:00:00Z&to=2026-11-23T08:15:00Z")).Ok();
        var interval = Assert.Single(byInterval.Arr("groups"))!;
        Assert.Equal("2026-11-23T08:00:00Z", interval.Str("key"));
        AssertFigures(interval, offered: 3, answered: 2, within: 1, abandoned: 1,
            answerRate: 2.0 / 3, serviceLevel: 1.0 / 3, asa: 37.5, talk: 45, acw: 10,
            occupancy: 0.5, loggedInHours: 300.0 / 3600, dailyHandled: 192);
    }

    [Fact]
    public async Task Stats_OfAnotherDay_AreEmpty()
    {
        var stats = (await _api.Get("/v1/queues/kpi/stats?from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z")).Ok();
        AssertFigures(stats, offered: 0, answered: 0, within: 0, abandoned: 0, answerRate: null, serviceLevel: null,
            asa: null, talk: null, acw: null, occupancy: null, loggedInHours: 0, dailyHandled: null);
    }

    private static void AssertFigures(JsonNode node, long offered, long answered, long within, long abandoned,
        double? answerRate, double? serviceLevel, double? asa, double? talk, double? acw, double? occupancy, double? loggedInHours, double? dailyHandled)
    {
        Assert.Equal(offered, Num(node, "offered"));
        Assert.Equal(answered, Num(node, "answered"));
        Assert.Equal(within, Num(node, "answeredWithinThreshold"));
        Assert.Equal(abandoned, Num(node, "abandoned"));
        Assert.Equal(0, Num(node, "overflowed"));
        Assert.Equal(0, Num(node, "refused"));
        Same(answerRate, node, "answerRate");
        Same(serviceLevel, node, "serviceLevel");
        Same(asa, node, "averageSpeedOfAnswerSeconds");
        Same(talk, node, "averageTalkSeconds");
        Same(acw, node, "averageAfterCallWorkSeconds");
        Same(occupancy, node, "occupancy");
        Same(loggedInHours, node, "loggedInHours");
        Same(dailyHandled, node, "dailyHandledPerAgent");
    }

    private static void Same(double? expected, JsonNode node, string field)
    {
        var actual = node[field]?.GetValue<double>();
        if (expected is null)
        {
            Assert.True(actual is null, $"{field}: expected null, got {actual}");
            return;
        }

        Assert.True(actual is { } a && Math.Abs(a - expected.Value) < 1e-9, $"{field}: expected {expected}, got {actual?.ToString() ?? "null"} in {node.ToJsonString()}");
    }

    private static double Num(JsonNode node, string field) => node[field]!.GetValue<double>();
}

/// <summary>The script of <see cref="KpiFixtureTests"/>, run once on its own host.</summary>
public sealed class KpiMorning() : SiloHostFactory(new SiloHostOptions { VirtualTime = true }), IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        var host = this;
        var api = new HostApi(CreateClient());
        await api.PutQueue("kpi", """{ "serviceLevelSeconds": 20, "wrapUpSeconds": 10, "offerTimeoutSeconds": 15 }""");
        await api.PutAgent("a1", "kpi");
        await api.PutAgent("a2", "kpi");
        await host.At(0);
        await api.SetState("a1", "ready");
        var s1 = await api.CreateSession("kpi", age: 70);
        await host.At(5);
        (await api.Post($"/v1/agents/a1/offers/{s1}/accept")).Ok();
        await host.At(10);
        var s2 = await api.CreateSession("kpi");
        await host.At(20);
        var s3 = await api.CreateSession("kpi", age: 80);
        await host.At(30);
        (await api.Post($"/v1/sessions/{s3}/abandon")).Ok();
        await host.At(60);
        await api.SetState("a2", "not-ready", "training");
        await host.At(65);
        (await api.Post($"/v1/agents/a1/sessions/{s1}/end")).Ok();
        await host.At(80);
        (await api.Post($"/v1/agents/a1/offers/{s2}/accept")).Ok();
        await host.At(110);
        (await api.Post($"/v1/agents/a1/sessions/{s2}/end")).Ok();
        await host.At(150);
        await api.SetState("a1", "not-ready", "break");
        await host.At(180);
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}
