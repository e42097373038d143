using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Matching;

/// <summary>Spec, "Skill relaxation": a queue may lower the minimum levels in steps as the session waits.</summary>
public sealed class SkillRelaxationTests
{
    private static readonly QueuePolicy OneStep = QueuePolicy.Default with { Relaxation = [new RelaxationStep(30, 1)] };

    private static readonly QueuePolicy TwoSteps = QueuePolicy.Default with
    {
        Relaxation = [new RelaxationStep(30, 1), new RelaxationStep(60, 2)],
    };

    [Fact]
    public void Relaxation_BeforeTheConfiguredWait_RequiresTheFullLevel()
    {
        var agent = Agent("a", skills: Skills(("cards", 2)));
        var session = Session("s", At(0), skills: Skills(("cards", 3)));

        Assert.False(Eligibility.IsEligible(agent, session, OneStep, At(29.999), out var step));
        Assert.Equal(-1, step);
    }

    [Fact]
    public void Relaxation_AtTheConfiguredWait_AcceptsOneLevelLower()
    {
        var agent = Agent("a", skills: Skills(("cards", 2)));
        var session = Session("s", At(0), skills: Skills(("cards", 3)));

        Assert.True(Eligibility.IsEligible(agent, session, OneStep, At(30), out var step));
        Assert.Equal(0, step);
        Assert.True(Eligibility.IsEligible(agent, session, OneStep, At(300)));
    }

    [Fact]
    public void Relaxation_LowersByTheStepNotFurther()
    {
        var agent = Agent("a", skills: Skills(("cards", 1)));
        var session = Session("s", At(0), skills: Skills(("cards", 3)));

        Assert.False(Eligibility.IsEligible(agent, session, OneStep, At(1000)));
    }

    [Fact]
    public void Relaxation_IsMeasuredFromTheOriginalArrival()
    {
        // A session put back after a rejected offer keeps its arrival, and with it its progress through the steps.
        var agent = Agent("a", skills: Skills(("cards", 2)));
        var requeued = Session("s", At(0), skills: Skills(("cards", 3)), rejectedBy: ["b"]);

        Assert.True(Eligibility.IsEligible(agent, requeued, OneStep, At(31)));
    }

    [Fact]
    public void Relaxation_LevelLoweredToZero_IsNoLongerRequired()
    {
        var withoutMandarin = Agent("a", skills: Skills(("cards", 3)));
        var session = Session("s", At(0), skills: Skills(("cards", 3), ("mandarin", 1)));
        var policy = QueuePolicy.Default with { Relaxation = [new RelaxationStep(30, 1)] };

        Assert.False(Eligibility.IsEligible(withoutMandarin, session, policy, At(29)));
        // cards is still required, at level 2.
        Assert.False(Eligibility.IsEligible(Agent("b", skills: Skills(("cards", 1))), session, policy, At(40)));
        Assert.True(Eligibility.IsEligible(withoutMandarin, session, policy, At(30), out var step));
        Assert.Equal(0, step);
    }

    [Fact]
    public void Relaxation_LevelLoweredBelowZero_IsNoLongerRequired()
    {
        var noSkills = Agent("a");
        var session = Session("s", At(0), skills: Skills(("mandarin", 2)));
        var policy = QueuePolicy.Default with { Relaxation = [new RelaxationStep(60, 5)] };

        Assert.False(Eligibility.IsEligible(noSkills, session, policy, At(59)));
        Assert.True(Eligibility.IsEligible(noSkills, session, policy, At(60), out var step));
        Assert.Equal(0, step);
    }

    [Theory]
    [InlineData(0, -1, 3)]
    [InlineData(29.9, -1, 3)]
    [InlineData(30, 0, 2)]
    [InlineData(59.9, 0, 2)]
    [InlineData(60, 1, 1)]
    [InlineData(3600, 1, 1)]
    public void Relaxation_TheLastStepReached_SetsTheMinimumLevel(double waited, int expectedStep, int expectedMinimum)
    {
        var step = SkillRelaxation.StepAt(TwoSteps.Relaxation, waited);

        Assert.Equal(expectedStep, step);
        Assert.Equal(expectedMinimum, SkillRelaxation.MinimumLevel(3, TwoSteps.Relaxation, step));
    }

    [Fact]
    public void Relaxation_SecondStep_ReportsWhichStepMatched()
    {
        var levelOne = Agent("a", skills: Skills(("cards", 1)));
        var session = Session("s", At(0), skills: Skills(("cards", 3)));

        Assert.False(Eligibility.IsEligible(levelOne, session, TwoSteps, At(59)));
        Assert.True(Eligibility.IsEligible(levelOne, session, TwoSteps, At(60), out var step));
        Assert.Equal(1, step);
    }

    [Fact]
    public void Relaxation_NoSteps_NeverLowersTheLevel()
    {
        var agent = Agent("a", skills: Skills(("cards", 2)));
        var session = Session("s", At(0), skills: Skills(("cards", 3)));

        Assert.False(Eligibility.IsEligible(agent, session, QueuePolicy.Default, At(100_000), out var step));
        Assert.Equal(-1, step);
    }

    [Fact]
    public void Relaxation_NextStepAt_IsTheNextStepInstantAfterNow()
    {
        var steps = TwoSteps.Relaxation;

        Assert.Equal(At(30), SkillRelaxation.NextStepAt(steps, At(0), At(10)));
        Assert.Equal(At(60), SkillRelaxation.NextStepAt(steps, At(0), At(30)));
        Assert.Null(SkillRelaxation.NextStepAt(steps, At(0), At(60)));
    }
}
