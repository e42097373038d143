using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

public sealed class AgentRosterTests
{
    [Fact]
    public void Roster_StaleSnapshot_IsIgnored()
    {
        var roster = new AgentRoster();
        Assert.True(roster.Update(Agent("a", state: AgentState.NotReady, version: 5)));

        Assert.False(roster.Update(Agent("a", state: AgentState.Ready, version: 4)));

        Assert.True(roster.TryGet("a", out var known));
        Assert.Equal(5, known.Version);
        Assert.Equal(AgentState.NotReady, known.State);
        Assert.Equal(0, roster.FreeCount);
        Assert.Null(roster.PickFor(Session("s", At(0)), QueuePolicy.Default, At(0), NoneBusy));
    }

    [Fact]
    public void Roster_SnapshotWithTheSameVersion_IsIgnored()
    {
        var roster = new AgentRoster();
        roster.Update(Agent("a", state: AgentState.Ready, version: 3));

        Assert.False(roster.Update(Agent("a", state: AgentState.NotReady, version: 3)));
        Assert.Equal(1, roster.FreeCount);
    }

    [Fact]
    public void Roster_NewerSnapshot_ReplacesTheOldOne()
    {
        var roster = new AgentRoster();
        roster.Update(Agent("a", state: AgentState.Ready, version: 1));

        Assert.True(roster.Update(Agent("a", active: Channels((Channel.Voice, 1)), version: 2)));

        Assert.Equal(1, roster.Count);
        Assert.Equal(0, roster.FreeCount);
        Assert.Empty(roster.Free);
        Assert.True(roster.Update(Agent("a", idleSince: At(100), version: 3)));
        Assert.Equal(["a"], roster.Free.Select(a => a.AgentId));
    }

    [Fact]
    public void Roster_Free_ListsAgentsWithRoomLongestIdleFirst()
    {
        var roster = new AgentRoster();
        roster.Update(Agent("recent", idleSince: At(-5)));
        roster.Update(Agent("busy", idleSince: At(-900), active: Channels((Channel.Video, 1))));
        roster.Update(Agent("longest", idleSince: At(-600)));
        roster.Update(Agent("chatting", idleSince: At(-60), active: Channels((Channel.Chat, 2))));
        roster.Update(Agent("away", idleSince: At(-700), state: AgentState.NotReady));

        Assert.Equal(5, roster.Count);
        Assert.Equal(["longest", "chatting", "recent"], roster.Free.Select(a => a.AgentId));
    }

    [Fact]
    public void Roster_IdleSinceChange_MovesTheAgentInLongestIdleOrder()
    {
        var roster = new AgentRoster();
        roster.Update(Agent("a", idleSince: At(-100), version: 1));
        roster.Update(Agent("b", idleSince: At(-50), version: 1));

        roster.Update(Agent("a", idleSince: At(0), version: 2));

        Assert.Equal(["b", "a"], roster.Free.Select(a => a.AgentId));
        Assert.Equal("b", roster.PickFor(Session("s", At(0)), QueuePolicy.Default, At(1), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Roster_Remove_ForgetsTheAgent()
    {
        var roster = new AgentRoster();
        roster.Update(Agent("a"));
        roster.Remove("a");
        roster.Remove("never-known");

        Assert.Equal(0, roster.Count);
        Assert.Equal(0, roster.FreeCount);
        Assert.False(roster.TryGet("a", out _));
        Assert.True(roster.Update(Agent("a", version: 1)));
    }
}
