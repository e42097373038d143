using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary><c>GET /v1/queues/{id}/staffing</c>: the what-if by formula and by simulation, and its strict parameters.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class StaffingApiTests(SiloHostFactory factory)
{
    private readonly HostApi _api = new(factory.CreateClient());

    [Fact]
    public async Task Staffing_ByFormula_AnswersTheErlangCPlan()
    {
        // 200 arrivals an hour, AHT 180 s (10 Erlangs), 80% within 20 s: 14 agents (Erlang C).
        var queue = await _api.PutQueue(HostApi.NewId("staff"), """{ "serviceLevelSeconds": 20 }""");

        var plan = (await _api.Get($"/v1/queues/{queue}/staffing?arrivalsPerHour=200&ahtSeconds=180")).Ok();

        Assert.Equal(queue, plan.Str("queueId"));
        Assert.Equal("formula", plan.Str("method"));
        Assert.Equal(200, plan["arrivalsPerHour"]!.GetValue<double>());
        Assert.Equal(180, plan["ahtSeconds"]!.GetValue<double>());
        Assert.Equal(0.8, plan["targetServiceLevel"]!.GetValue<double>());
        Assert.Equal(20, plan["thresholdSeconds"]!.GetValue<double>());
        Assert.Null(plan["patienceSeconds"]);
        Assert.Equal(14, plan["agentsNeeded"]!.GetValue<int>());
        Assert.Equal(0, plan["agentsLoggedIn"]!.GetValue<int>());
        Assert.Equal(0, plan["agentsReady"]!.GetValue<int>());
        Assert.Equal(0.8884, plan["predicted"]!["serviceLevel"]!.GetValue<double>());
        Assert.Equal(0.1741, plan["predicted"]!["probabilityOfWait"]!.GetValue<double>());
        Assert.Equal(0, plan["predicted"]!["abandonRate"]!.GetValue<double>());
        Assert.Equal(Enumerable.Range(11, 7), plan.Arr("table").Select(r => r!["agents"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Staffing_WithPatience_UsesErlangAFromOneAgent()
    {
        var queue = await _api.PutQueue(HostApi.NewId("staff"));

        var plan = (await _api.Get($"/v1/queues/{queue}/staffing?arrivalsPerHour=200&ahtSeconds=180&patienceSeconds=120&targetServiceLevel=0.9&thresholdSeconds=30")).Ok();

        Assert.Equal(120, plan["patienceSeconds"]!.GetValue<double>());
        Assert.Equal(30, plan["thresholdSeconds"]!.GetValue<double>());
        var table = plan.Arr("table");
        Assert.Equal(1, table[0]!["agents"]!.GetValue<int>());
        Assert.Equal(plan["agentsNeeded"]!.GetValue<int>() + 3, table[^1]!["agents"]!.GetValue<int>());
        Assert.True(table[0]!["abandonRate"]!.GetValue<double>() > 0.5);
        Assert.True(plan["predicted"]!["serviceLevel"]!.GetValue<double>() >= 0.9);
    }

    [Fact]
    public async Task Staffing_BySimulation_AgreesRoughlyWithTheFormulaAndGivesSegments()
    {
        var queue = await _api.PutQueue(HostApi.NewId("staff"));

        var plan = (await _api.Get($"/v1/queues/{queue}/staffing?arrivalsPerHour=200&ahtSeconds=180&method=simulation")).Ok();

        Assert.Equal("simulation", plan.Str("method"));
        Assert.InRange(plan["agentsNeeded"]!.GetValue<int>(), 13, 15);
        Assert.NotNull(plan["predicted"]!["bySegment"]!["ordinary"]);
    }

    [Fact]
    public async Task Staffing_WithNothingMeasuredAndNothingGiven_Answers400NamingTheFields()
    {
        var queue = await _api.PutQueue(HostApi.NewId("staff"));

        var problem = (await _api.Get($"/v1/queues/{queue}/staffing")).ValidationProblem("arrivalsPerHour");

        Assert.NotNull(problem["errors"]!["ahtSeconds"]);
    }

    [Theory]
    [InlineData("arrivalsPerHour=-1", "arrivalsPerHour")]
    [InlineData("arrivalsPerHour=abc", "arrivalsPerHour")]
    [InlineData("ahtSeconds=0", "ahtSeconds")]
    [InlineData("targetServiceLevel=1", "targetServiceLevel")]
    [InlineData("targetServiceLevel=80", "targetServiceLevel")]
    [InlineData("thresholdSeconds=-5", "thresholdSeconds")]
    [InlineData("patienceSeconds=0", "patienceSeconds")]
    [InlineData("method=guess", "method")]
    [InlineData("agents=3", "agents")]
    [InlineData("arrivalsPerHour=100000&ahtSeconds=3600", "arrivalsPerHour")]
    [InlineData("ahtSeconds=60&ahtSeconds=90", "ahtSeconds")]
    public async Task Staffing_WithABadParameter_Answers400NamingIt(string query, string field)
    {
        var queue = await _api.PutQueue(HostApi.NewId("staff"));

        (await _api.Get($"/v1/queues/{queue}/staffing?{query}")).ValidationProblem(field);
    }

    [Fact]
    public async Task Staffing_OfAnUnknownQueue_Answers404() =>
        (await _api.Get($"/v1/queues/{HostApi.NewId("nowhere")}/staffing?arrivalsPerHour=10&ahtSeconds=100")).Problem(HttpStatusCode.NotFound);
}
