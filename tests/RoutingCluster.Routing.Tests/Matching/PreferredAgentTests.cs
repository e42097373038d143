using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Matching;

/// <summary>Spec, "Matching": a preferred agent gets the offer first if eligible within the session's
/// preferred-agent wait (default 0); afterwards anyone eligible.</summary>
public sealed class PreferredAgentTests
{
    private static readonly QueuePolicy Policy = QueuePolicy.Default;

    [Fact]
    public void Preferred_EligiblePreferredAgent_IsChosenFirstOverLongerIdleAgents()
    {
        var roster = Roster(Agent("idle-longest", idleSince: At(-600)), Agent("preferred", idleSince: At(-1)));

        // No window (the default): the preferred agent still gets the offer first when eligible at arrival.
        var session = Session("s", At(0), preferredAgent: "preferred");

        Assert.Equal("preferred", roster.PickFor(session, Policy, At(0), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Preferred_EligiblePreferredAgent_BeatsMostSkilled()
    {
        var roster = Roster(
            Agent("expert", idleSince: At(-600), skills: Skills(("cards", 5))),
            Agent("preferred", idleSince: At(-1), skills: Skills(("cards", 1))));
        var session = Session("s", At(0), skills: Skills(("cards", 1)), preferredAgent: "preferred");

        var policy = Policy with { AgentSelection = AgentSelection.MostSkilled };
        Assert.Equal("preferred", roster.PickFor(session, policy, At(0), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Preferred_WithinTheWindow_OnlyThePreferredAgentIsOffered()
    {
        var roster = Roster(Agent("other", idleSince: At(-600)), Agent("preferred", state: AgentState.NotReady));
        var session = Session("s", At(0), preferredAgent: "preferred", preferredUntil: At(20));

        Assert.Null(roster.PickFor(session, Policy, At(0), NoneBusy));
        Assert.Null(roster.PickFor(session, Policy, At(19.9), NoneBusy));
        Assert.True(Eligibility.WithinPreferredWindow(session, At(19.9)));
    }

    [Fact]
    public void Preferred_WithinTheWindow_PreferredAgentBusyWithAnOffer_NoOneElseIsOffered()
    {
        var roster = Roster(Agent("other", idleSince: At(-600)), Agent("preferred"));
        var session = Session("s", At(0), preferredAgent: "preferred", preferredUntil: At(20));

        Assert.Null(roster.PickFor(session, Policy, At(5), new HashSet<string> { "preferred" }));
    }

    [Fact]
    public void Preferred_AfterTheWindow_FallsBackToAnyoneEligible()
    {
        var roster = Roster(
            Agent("other-recent", idleSince: At(-10)),
            Agent("other-longest", idleSince: At(-600)),
            Agent("preferred", state: AgentState.NotReady));
        var session = Session("s", At(0), preferredAgent: "preferred", preferredUntil: At(20));

        Assert.False(Eligibility.WithinPreferredWindow(session, At(20)));
        Assert.Equal("other-longest", roster.PickFor(session, Policy, At(20), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Preferred_NoWindowAndPreferredAgentNotEligible_AnyoneEligibleAtOnce()
    {
        var roster = Roster(Agent("other"), Agent("preferred", active: Channels((Channel.Voice, 1))));
        var session = Session("s", At(0), preferredAgent: "preferred");

        Assert.Equal("other", roster.PickFor(session, Policy, At(0), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Preferred_AfterTheWindow_PreferredAgentStillGoesFirstWhenEligible()
    {
        var roster = Roster(Agent("other", idleSince: At(-600)), Agent("preferred", idleSince: At(50)));
        var session = Session("s", At(0), preferredAgent: "preferred", preferredUntil: At(20));

        Assert.Equal("preferred", roster.PickFor(session, Policy, At(60), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void Preferred_WithinTheWindow_AnotherAgentBecomingFree_DoesNotTakeTheSession()
    {
        var list = new WaitingList();
        list.Add(Session("for-preferred", At(0), preferredAgent: "preferred", preferredUntil: At(30)));
        list.Add(Session("anyone", At(10)));
        var other = Agent("other");

        Assert.Equal("anyone", list.BestFor(other, Policy, At(15), NoOneElse)?.Session.SessionId);
        Assert.Equal("for-preferred", list.BestFor(other, Policy, At(30), NoOneElse)?.Session.SessionId);
        Assert.Equal("for-preferred", list.BestFor(Agent("preferred"), Policy, At(15), NoOneElse)?.Session.SessionId);
    }

    [Fact]
    public void Preferred_Admits_OnlyThePreferredAgentWithinTheWindow()
    {
        var session = Session("s", At(0), preferredAgent: "preferred", preferredUntil: At(10));

        Assert.True(Eligibility.Admits("preferred", session, At(5), () => true));
        Assert.False(Eligibility.Admits("other", session, At(5), () => false));
        Assert.True(Eligibility.Admits("other", session, At(10), () => false));
    }
}
