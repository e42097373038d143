using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Matching;

/// <summary>Spec, "Matching", agent surplus: the queue's strategy picks among several eligible agents.</summary>
public sealed class AgentSelectionTests
{
    private static readonly QueuePolicy LongestIdle = QueuePolicy.Default;

    private static readonly QueuePolicy MostSkilled = QueuePolicy.Default with { AgentSelection = AgentSelection.MostSkilled };

    [Fact]
    public void Selection_DefaultStrategy_IsLongestIdle()
    {
        Assert.Equal(AgentSelection.LongestIdle, QueuePolicy.Default.AgentSelection);
    }

    [Fact]
    public void Selection_LongestIdle_PicksTheAgentFreeTheLongest()
    {
        var roster = Roster(
            Agent("recent", idleSince: At(-10)),
            Agent("longest", idleSince: At(-300)),
            Agent("middle", idleSince: At(-60)));

        var choice = roster.PickFor(Session("s", At(0)), LongestIdle, At(0), NoneBusy);

        Assert.NotNull(choice);
        Assert.Equal("longest", choice.Value.Agent.AgentId);
        Assert.Equal(3, choice.Value.CandidateCount);
        Assert.Equal(-1, choice.Value.RelaxationStep);
    }

    [Fact]
    public void Selection_LongestIdle_SkipsIneligibleAgentsThatIdledLonger()
    {
        var roster = Roster(
            Agent("no-skill", idleSince: At(-900)),
            Agent("other-queue", idleSince: At(-800), queues: ["loans"], skills: Skills(("cards", 5))),
            Agent("skilled", idleSince: At(-5), skills: Skills(("cards", 2))));

        var choice = roster.PickFor(Session("s", At(0), skills: Skills(("cards", 2))), LongestIdle, At(0), NoneBusy);

        Assert.Equal("skilled", choice?.Agent.AgentId);
        Assert.Equal(1, choice?.CandidateCount);
    }

    [Fact]
    public void Selection_MostSkilled_PicksTheHighestLevelOnTheRequiredSkills()
    {
        var roster = Roster(
            Agent("longest-idle", idleSince: At(-600), skills: Skills(("cards", 2), ("mandarin", 2))),
            Agent("expert", idleSince: At(-5), skills: Skills(("cards", 5), ("mandarin", 4))),
            Agent("good", idleSince: At(-60), skills: Skills(("cards", 4), ("mandarin", 3))));
        var session = Session("s", At(0), skills: Skills(("cards", 2), ("mandarin", 2)));

        Assert.Equal("expert", roster.PickFor(session, MostSkilled, At(0), NoneBusy)?.Agent.AgentId);
        Assert.Equal("longest-idle", roster.PickFor(session, LongestIdle, At(0), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Selection_MostSkilled_CountsOnlyTheRequiredSkills()
    {
        var roster = Roster(
            Agent("polyglot", idleSince: At(-5), skills: Skills(("cards", 3), ("mandarin", 5), ("french", 5), ("loans", 5))),
            Agent("card-expert", idleSince: At(-1), skills: Skills(("cards", 5))));

        var choice = roster.PickFor(Session("s", At(0), skills: Skills(("cards", 1))), MostSkilled, At(0), NoneBusy);

        Assert.Equal("card-expert", choice?.Agent.AgentId);
    }

    [Fact]
    public void Selection_MostSkilled_TieIsBrokenByLongestIdle()
    {
        var roster = Roster(
            Agent("equal-recent", idleSince: At(-10), skills: Skills(("cards", 4))),
            Agent("equal-longest", idleSince: At(-120), skills: Skills(("cards", 4))),
            Agent("weaker-longer", idleSince: At(-900), skills: Skills(("cards", 3))));

        var choice = roster.PickFor(Session("s", At(0), skills: Skills(("cards", 3))), MostSkilled, At(0), NoneBusy);

        Assert.Equal("equal-longest", choice?.Agent.AgentId);
        Assert.Equal(3, choice?.CandidateCount);
    }

    [Fact]
    public void Selection_SameIdleTime_IsDecidedByAgentIdDeterministically()
    {
        var roster = Roster(Agent("b", idleSince: At(-10)), Agent("a", idleSince: At(-10)));

        Assert.Equal("a", roster.PickFor(Session("s", At(0)), LongestIdle, At(0), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Selection_AgentsWithAnOfferInFlight_AreSkipped()
    {
        var roster = Roster(Agent("longest", idleSince: At(-300)), Agent("next", idleSince: At(-100)));

        var choice = roster.PickFor(Session("s", At(0)), LongestIdle, At(0), new HashSet<string> { "longest" });

        Assert.Equal("next", choice?.Agent.AgentId);
    }

    [Fact]
    public void Selection_NoEligibleAgent_ReturnsNothing()
    {
        var roster = Roster(
            Agent("not-ready", state: AgentState.NotReady),
            Agent("on-a-call", active: Channels((Channel.Voice, 1))),
            Agent("unskilled"));

        Assert.Null(roster.PickFor(Session("s", At(0), skills: Skills(("cards", 1))), LongestIdle, At(0), NoneBusy));
    }

    [Fact]
    public void Selection_AfterRelaxation_ReportsTheStepTheAgentMatchedAt()
    {
        var policy = LongestIdle with { Relaxation = [new RelaxationStep(30, 1)] };
        var roster = Roster(Agent("level-2", skills: Skills(("cards", 2))));
        var session = Session("s", At(0), skills: Skills(("cards", 3)));

        Assert.Null(roster.PickFor(session, policy, At(29), NoneBusy));
        var choice = roster.PickFor(session, policy, At(30), NoneBusy);
        Assert.Equal("level-2", choice?.Agent.AgentId);
        Assert.Equal(0, choice?.RelaxationStep);
    }

    [Fact]
    public void Selection_AppliesTheQueuesStrategyToTheSameAgents()
    {
        var session = Session("s", At(0), skills: Skills(("cards", 1)));
        var roster = Roster(
            Agent("idle-long", idleSince: At(-100), skills: Skills(("cards", 1))),
            Agent("skilled", idleSince: At(-1), skills: Skills(("cards", 5))));

        Assert.Equal("idle-long", roster.PickFor(session, LongestIdle, At(0), NoneBusy)?.Agent.AgentId);
        Assert.Equal("skilled", roster.PickFor(session, MostSkilled, At(0), NoneBusy)?.Agent.AgentId);
        Assert.Null(Roster().PickFor(session, LongestIdle, At(0), NoneBusy));
    }
}
