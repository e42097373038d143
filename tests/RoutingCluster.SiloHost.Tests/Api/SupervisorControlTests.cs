using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>What a supervisor does with the live numbers: see each queue's agents and move an agent between queues
/// while it works.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class SupervisorControlTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task MoveAgent_WhileItHoldsASession_KeepsTheSession_AndTakesTheNextOneFromTheNewQueue()
    {
        var cards = await _api.PutQueue(HostApi.NewId("q"));
        var loans = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, cards);
        await _api.SetState(agent, "ready");
        var held = await _api.CreateSession(cards);
        await _api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
        (await _api.Post($"/v1/agents/{agent}/offers/{held}/accept")).Ok();

        var moved = (await _api.Put($"/v1/agents/{agent}/queues", $$"""{ "queues": [ "{{loans}}" ] }""")).Ok();

        Assert.Equal([loans], moved.Arr("queues").Select(q => q!.GetValue<string>()));
        Assert.Equal(held, Assert.Single(moved.Arr("sessions"))!.Str("sessionId"));
        Assert.Equal("connected", (await _api.Get($"/v1/sessions/{held}")).Ok().Str("state"));

        // The old queue no longer offers it anything; the new one does once the held session is done.
        var leftBehind = await _api.CreateSession(cards);
        var waiting = await _api.CreateSession(loans);
        (await _api.Post($"/v1/agents/{agent}/sessions/{held}/end")).Ok();
        (await _api.Post($"/v1/agents/{agent}/sessions/{held}/wrap-up-done")).Ok();
        var next = await _api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
        Assert.Equal(waiting, Assert.Single(next.Arr("offers"))!.Str("sessionId"));
        Assert.Equal("completed", (await _api.Get($"/v1/sessions/{held}")).Ok().Str("state"));
        Assert.Equal("queued", (await _api.Get($"/v1/sessions/{leftBehind}")).Ok().Str("state"));
    }

    [Fact]
    public async Task QueueAgents_ListsTheAgentsServingTheQueue_WithTheirStates()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var other = await _api.PutQueue(HostApi.NewId("q"));
        var ready = HostApi.NewId("a");
        var onBreak = HostApi.NewId("a");
        var elsewhere = HostApi.NewId("a");
        await _api.PutAgent(ready, queue);
        await _api.PutAgent(onBreak, queue);
        await _api.PutAgent(elsewhere, other);
        await _api.SetState(ready, "ready");
        await _api.SetState(onBreak, "not-ready", "break");
        await _api.SetState(elsewhere, "ready");

        var agents = (await _api.PollUntil($"/v1/queues/{queue}/agents", a => a.AsArray().Count == 2)).AsArray();

        Assert.Equal(new[] { ready, onBreak }.Order(StringComparer.Ordinal), agents.Select(a => a!.Str("id")));
        var byId = agents.ToDictionary(a => a!.Str("id"), a => a!);
        Assert.Equal("ready", byId[ready].Str("state"));
        Assert.Equal("not-ready", byId[onBreak].Str("state"));
        Assert.Equal("break", byId[onBreak].Str("reason"));
        Assert.Null(byId[onBreak]["forcedBy"]?.GetValue<string>());
    }

    [Fact]
    public async Task QueueAgents_OfAnUnknownQueue_Answers404()
    {
        (await _api.Get($"/v1/queues/{HostApi.NewId("q")}/agents")).Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task MoveAgent_WithoutQueues_Answers400NamingTheField_AndChangesNothing()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);

        var problem = (await _api.Put($"/v1/agents/{agent}/queues", """{ "queues": [ "" ] }""")).Problem(HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]!["queues[0]"]);
        Assert.Equal([queue], (await _api.Get($"/v1/agents/{agent}")).Ok().Arr("queues").Select(q => q!.GetValue<string>()));
        (await _api.Put($"/v1/agents/{agent}/queues", "{}")).Problem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task MoveAgent_Unknown_Answers404()
    {
        (await _api.Put($"/v1/agents/{HostApi.NewId("a")}/queues", """{ "queues": [ "cards" ] }""")).Problem(HttpStatusCode.NotFound);
    }
}
