using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>Answering offers: too late (409, and the agent is set not-ready) and rejecting (the session waits again).</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class OfferTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Accept_AfterTheOfferExpired_Answers409_AndTheAgentIsNotReadyWithMissedOffer()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"), """{ "offerTimeoutSeconds": 1 }""");
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        var session = await _api.CreateSession(queue);
        await _api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");

        // Real time: the host runs on the system clock, so wait for the 1 s offer to time out.
        var missed = await _api.PollUntil($"/v1/agents/{agent}", a => a.Str("state") == "not-ready");
        Assert.Equal("missed-offer", missed.Str("reason"));
        Assert.Empty(missed.Arr("offers"));

        var reply = await _api.Post($"/v1/agents/{agent}/offers/{session}/accept");

        reply.Problem(HttpStatusCode.Conflict);
        var after = (await _api.Get($"/v1/sessions/{session}")).Ok();
        Assert.Equal("queued", after.Str("state"));
        Assert.Contains(agent, after.Arr("rejectedBy").Select(a => a!.GetValue<string>()));
        var agentAfter = (await _api.Get($"/v1/agents/{agent}")).Ok();
        Assert.Equal("not-ready", agentAfter.Str("state"));
        Assert.Equal("missed-offer", agentAfter.Str("reason"));
    }

    [Fact]
    public async Task Reject_PutsTheSessionBackInTheQueue_AtItsOriginalPlace()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        var first = await _api.CreateSession(queue);
        var second = await _api.CreateSession(queue);
        var ready = await _api.SetState(agent, "ready");
        Assert.Equal(first, Assert.Single(ready.Arr("offers"))!.Str("sessionId"));

        // The agent goes on a break with the offer pending, then rejects it: nobody is ready to take it.
        await _api.SetState(agent, "not-ready", "break");
        var rejected = (await _api.Post($"/v1/agents/{agent}/offers/{first}/reject")).Ok();

        Assert.Empty(rejected.Arr("offers"));
        var after = (await _api.Get($"/v1/sessions/{first}")).Ok();
        Assert.Equal("queued", after.Str("state"));
        Assert.Null(after.StrOrNull("agentId"));
        Assert.Equal([agent], after.Arr("rejectedBy").Select(a => a!.GetValue<string>()));
        Assert.Equal(after.Str("createdAt"), after.Str("queuedAt"));

        // It kept its place ahead of the session that arrived after it.
        var other = HostApi.NewId("a");
        await _api.PutAgent(other, queue);
        var next = await _api.SetState(other, "ready");
        Assert.Equal(first, Assert.Single(next.Arr("offers"))!.Str("sessionId"));
        Assert.Equal("queued", (await _api.Get($"/v1/sessions/{second}")).Ok().Str("state"));
    }

    [Fact]
    public async Task Reject_WhenAnotherAgentIsReady_OffersTheSessionToThatAgent()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var first = HostApi.NewId("a");
        var second = HostApi.NewId("a");
        await _api.PutAgent(first, queue);
        await _api.PutAgent(second, queue);
        var session = await _api.CreateSession(queue);
        await _api.SetState(first, "ready");

        // The second agent becomes ready while the first holds the offer, then the first rejects it.
        await _api.SetState(second, "ready");
        (await _api.Post($"/v1/agents/{first}/offers/{session}/reject")).Ok();

        var offered = await _api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");
        Assert.Equal(second, offered.Str("agentId"));
        Assert.Equal(["queued", "offered", "queued", "offered"], offered.Arr("history").Select(h => h!.Str("state")));
    }

    [Fact]
    public async Task Accept_WhenNoOfferIsPending_Answers409()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        var session = await _api.CreateSession(queue);

        var reply = await _api.Post($"/v1/agents/{agent}/offers/{session}/accept");

        Assert.Contains("no pending offer", reply.Problem(HttpStatusCode.Conflict).Str("detail"), StringComparison.Ordinal);
        Assert.Equal("queued", (await _api.Get($"/v1/sessions/{session}")).Ok().Str("state"));
    }
}
