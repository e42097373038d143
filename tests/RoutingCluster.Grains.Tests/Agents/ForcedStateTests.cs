using RoutingCluster.Abstractions.Common;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Agents;

/// <summary>A supervisor sets an agent's state in its place: marked as forced until the agent chooses again, never ready.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ForcedStateTests(RoutingClusterFixture fx)
{
    [Fact]
    public async Task ForcedNotReady_KeepsTheOfferItHolds_IsMarked_AndTheAgentsOwnChoiceClearsTheMark()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { OfferTimeoutSeconds = 120 });
        var agent = await s.AgentAsync("a1", [queue]);
        var session = await s.SessionAsync("s1", queue);

        var forced = await fx.Agent(agent).ForceStateAsync(AgentState.NotReady, "coaching", "sup-1");

        Assert.Equal(OutcomeCode.Ok, forced.Code);
        var view = await s.GetAgent(agent);
        Assert.Equal(AgentState.NotReady, view.State);
        Assert.Equal("coaching", view.Reason);
        Assert.Equal("sup-1", view.ForcedBy);
        Assert.Equal(session, Assert.Single(view.Offers).SessionId);

        Assert.Equal(OutcomeCode.Ok, (await fx.Agent(agent).SetStateAsync(AgentState.Ready, null)).Code);
        var own = await s.GetAgent(agent);
        Assert.Equal(AgentState.Ready, own.State);
        Assert.Null(own.ForcedBy);
    }

    [Fact]
    public async Task ForcedReady_IsRefused_AndChangesNothing()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = await s.AgentAsync("a1", [queue]);
        await fx.Agent(agent).SetStateAsync(AgentState.NotReady, "break");

        var forced = await fx.Agent(agent).ForceStateAsync(AgentState.Ready, "back to work", "sup-1");

        Assert.Equal(OutcomeCode.Conflict, forced.Code);
        var view = await s.GetAgent(agent);
        Assert.Equal(AgentState.NotReady, view.State);
        Assert.Equal("break", view.Reason);
        Assert.Null(view.ForcedBy);
    }

    [Fact]
    public async Task ForcedLogout_WhileTheAgentHoldsWork_IsRefused()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards", QueuePolicy.Default with { OfferTimeoutSeconds = 120 });
        var agent = await s.AgentAsync("a1", [queue]);
        await s.SessionAsync("s1", queue);

        var forced = await fx.Agent(agent).ForceStateAsync(AgentState.LoggedOut, "end of shift", "sup-1");

        Assert.Equal(OutcomeCode.Conflict, forced.Code);
        Assert.Equal(AgentState.Ready, (await s.GetAgent(agent)).State);
    }
}
