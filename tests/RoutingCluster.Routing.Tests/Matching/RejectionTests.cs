using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Matching;

/// <summary>Spec, "Matching": never offer a session to an agent that already rejected it unless no one else is eligible.</summary>
public sealed class RejectionTests
{
    private static readonly QueuePolicy Policy = QueuePolicy.Default;

    [Fact]
    public void PickFor_AgentThatRejected_IsNotOfferedAgainWhileAnotherIsEligible()
    {
        var roster = Roster(Agent("rejecter", idleSince: At(-600)), Agent("other", idleSince: At(-1)));
        var session = Session("s", At(0), rejectedBy: ["rejecter"]);

        var choice = roster.PickFor(session, Policy, At(20), NoneBusy);

        Assert.Equal("other", choice?.Agent.AgentId);
        Assert.Equal(1, choice?.CandidateCount);
    }

    [Fact]
    public void PickFor_AgentThatRejected_IsOfferedAgainWhenNoOneElseIsEligible()
    {
        var roster = Roster(Agent("rejecter"), Agent("other-not-ready", state: AgentState.NotReady));
        var session = Session("s", At(0), rejectedBy: ["rejecter"]);

        Assert.Equal("rejecter", roster.PickFor(session, Policy, At(20), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void PickFor_AllEligibleAgentsRejected_PicksAmongThemByStrategy()
    {
        var roster = Roster(Agent("r1", idleSince: At(-10)), Agent("r2", idleSince: At(-500)));
        var session = Session("s", At(0), rejectedBy: ["r1", "r2"]);

        Assert.Equal("r2", roster.PickFor(session, Policy, At(20), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void PickFor_PreferredAgentThatRejected_IsNotOfferedAgainWhileAnotherIsEligible()
    {
        var roster = Roster(Agent("preferred"), Agent("other"));
        var session = Session("s", At(0), preferredAgent: "preferred", rejectedBy: ["preferred"]);

        Assert.Equal("other", roster.PickFor(session, Policy, At(20), NoneBusy)?.Agent.AgentId);
    }

    [Fact]
    public void AnyoneElseEligible_IgnoresTheAskingAgentAndThoseThatRejected()
    {
        var roster = Roster(Agent("asking"), Agent("rejecter"), Agent("unskilled"), Agent("other", skills: Skills(("cards", 1))));
        var session = Session("s", At(0), skills: Skills(("cards", 1)), rejectedBy: ["asking", "rejecter"]);

        Assert.True(roster.AnyoneElseEligible(session, "asking", Policy, At(20)));
        roster.Update(Agent("other", state: AgentState.NotReady, version: 2));
        Assert.False(roster.AnyoneElseEligible(session, "asking", Policy, At(20)));
    }

    [Fact]
    public void BestFor_SessionTheAgentRejected_IsSkippedWhileAnotherAgentIsEligible()
    {
        var roster = Roster(Agent("rejecter"), Agent("other"));
        var list = new WaitingList();
        list.Add(Session("rejected", At(0), rejectedBy: ["rejecter"]));
        list.Add(Session("next", At(10)));

        var candidate = list.BestFor(
            Agent("rejecter"), Policy, At(20), s => roster.AnyoneElseEligible(s, "rejecter", Policy, At(20)));

        Assert.Equal("next", candidate?.Session.SessionId);
    }

    [Fact]
    public void BestFor_SessionTheAgentRejected_IsOfferedAgainWhenNoOneElseIsEligible()
    {
        var roster = Roster(Agent("rejecter"), Agent("other", state: AgentState.NotReady));
        var list = new WaitingList();
        list.Add(Session("rejected", At(0), rejectedBy: ["rejecter"]));
        list.Add(Session("next", At(10)));

        var candidate = list.BestFor(
            Agent("rejecter"), Policy, At(20), s => roster.AnyoneElseEligible(s, "rejecter", Policy, At(20)));

        Assert.Equal("rejected", candidate?.Session.SessionId);
    }

    [Fact]
    public void BestFor_OnlyTheRejectedSessionWaitsAndOthersCouldTakeIt_ReturnsNothing()
    {
        var list = new WaitingList();
        list.Add(Session("rejected", At(0), rejectedBy: ["rejecter"]));

        Assert.Null(list.BestFor(Agent("rejecter"), Policy, At(20), SomeoneElse));
        Assert.Equal("rejected", list.BestFor(Agent("other"), Policy, At(20), SomeoneElse)?.Session.SessionId);
    }
}
