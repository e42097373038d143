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

    [Fact]
    public void Roster_FreeAgentsWithOneProfile_ShareOneGroup_AndAnEmptyGroupGoes()
    {
        var roster = new AgentRoster();

        // New dictionaries in every snapshot, as agents publish them: grouped by content.
        for (var i = 0; i < 10; i++)
        {
            roster.Update(Agent($"a{i}", idleSince: At(-i), skills: Skills(("cards", 3), ("mandarin", 2)), queues: [Queue, "loans"]));
        }

        roster.Update(Agent("b", skills: Skills(("cards", 4))));
        roster.Update(Agent("chatting", active: Channels((Channel.Chat, 1))));
        roster.Update(Agent("away", state: AgentState.NotReady));
        Assert.Equal(3, roster.ProfileCount);

        // A new idle time keeps the agent in its group; a session taken moves it to another; the last one gone, the group goes.
        roster.Update(Agent("a0", idleSince: At(5), skills: Skills(("mandarin", 2), ("cards", 3)), queues: [Queue, "loans"], version: 2));
        Assert.Equal(3, roster.ProfileCount);
        roster.Update(Agent("b", active: Channels((Channel.Chat, 1)), skills: Skills(("cards", 4)), version: 2));
        Assert.Equal(3, roster.ProfileCount);
        roster.Update(Agent("b", active: Channels((Channel.Voice, 1)), skills: Skills(("cards", 4)), version: 3));
        roster.Remove("chatting");
        Assert.Equal(1, roster.ProfileCount);
        Assert.Equal(10, roster.FreeCount);
    }

    [Fact]
    public void PickFor_LongestIdle_CountsCandidatesUpToTheLimit_WithoutThoseBusyOrRejected()
    {
        var roster = new AgentRoster();
        for (var i = 0; i < AgentRoster.CandidateCountLimit + 2; i++)
        {
            roster.Update(Agent($"a{i:D3}", idleSince: At(-i)));
        }

        var session = Session("s", At(0), rejectedBy: ["a000", "a001"]);
        var choice = roster.PickFor(session, QueuePolicy.Default, At(0), new HashSet<string> { "a257", "a001" });

        Assert.Equal("a256", choice?.Agent.AgentId);
        Assert.Equal(AgentRoster.CandidateCountLimit - 1, choice?.CandidateCount);
    }

    [Fact]
    public void PickFor_AgentThatRejected_WithAnOfferInFlight_IsNotTheFallback()
    {
        var roster = Roster(Agent("rejecter", idleSince: At(-60)), Agent("other-rejecter", idleSince: At(-10)));
        var session = Session("s", At(0), rejectedBy: ["rejecter", "other-rejecter"]);

        Assert.Equal("other-rejecter", roster.PickFor(session, QueuePolicy.Default, At(0), new HashSet<string> { "rejecter" })?.Agent.AgentId);
        Assert.Null(roster.PickFor(session, QueuePolicy.Default, At(0), new HashSet<string> { "rejecter", "other-rejecter" }));
    }

    [Fact]
    public void PickFor_SkillsLookedUpIgnoringCase_AreNotTakenForTheSameProfile()
    {
        // Same entries, but only the first finds "cards" when asked for it.
        var roster = Roster(
            Agent("ignoring-case", idleSince: At(-60), skills: new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { ["Cards"] = 3 }),
            Agent("ordinal", idleSince: At(-10), skills: Skills(("Cards", 3))));

        var choice = roster.PickFor(Session("s", At(0), skills: Skills(("cards", 3))), QueuePolicy.Default, At(0), NoneBusy);

        Assert.Equal("ignoring-case", choice?.Agent.AgentId);
        Assert.Equal(1, choice?.CandidateCount);
        Assert.Equal(2, roster.ProfileCount);
    }
}
