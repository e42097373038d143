using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Matching;

/// <summary>Spec, "Matching": an agent is eligible if it is ready, serves the queue, has free capacity on the
/// channel (and no exclusive session active), and meets every required skill at the current minimum level.</summary>
public sealed class EligibilityTests
{
    private static readonly QueuePolicy Policy = QueuePolicy.Default;

    private static bool Eligible(AgentSupply agent, SessionDemand session) => Eligibility.IsEligible(agent, session, Policy, At(1));

    [Fact]
    public void Eligibility_ReadyAgentServingQueueWithRoomAndSkills_IsEligible()
    {
        var agent = Agent("a", skills: Skills(("cards", 3), ("mandarin", 5)));
        var session = Session("s", At(0), skills: Skills(("cards", 3), ("mandarin", 4)));

        Assert.True(Eligible(agent, session));
    }

    [Theory]
    [InlineData(AgentState.NotReady)]
    [InlineData(AgentState.LoggedOut)]
    public void Eligibility_AgentNotReady_IsNotEligible(AgentState state)
    {
        Assert.False(Eligible(Agent("a", state: state), Session("s", At(0))));
        Assert.True(Eligible(Agent("a", state: AgentState.Ready), Session("s", At(0))));
    }

    [Fact]
    public void Eligibility_AgentNotServingTheQueue_IsNotEligible()
    {
        var agent = Agent("a", queues: ["loans", "mortgages"]);

        Assert.False(Eligible(agent, Session("s", At(0), queue: "cards")));
        Assert.True(Eligible(agent, Session("s", At(0), queue: "loans")));
    }

    [Fact]
    public void Eligibility_ChannelAtCapacity_IsNotEligible()
    {
        var full = Agent("a", active: Channels((Channel.Chat, 3)));
        var roomForOneMore = Agent("b", active: Channels((Channel.Chat, 2)));
        var chat = Session("s", At(0), channel: Channel.Chat);

        Assert.False(Eligible(full, chat));
        Assert.True(Eligible(roomForOneMore, chat));
    }

    [Fact]
    public void Eligibility_ChannelMissingFromCapacityProfile_IsNotEligible()
    {
        var chatOnly = Agent("a", capacity: Channels((Channel.Chat, 2)));

        Assert.False(Eligible(chatOnly, Session("s", At(0), channel: Channel.Email)));
        Assert.True(Eligible(chatOnly, Session("s", At(0), channel: Channel.Chat)));
    }

    [Fact]
    public void Eligibility_CustomCapacity_IsHonoured()
    {
        var agent = Agent("a", capacity: Channels((Channel.Email, 2)), active: Channels((Channel.Email, 2)));

        Assert.False(Eligible(agent, Session("s", At(0), channel: Channel.Email)));
    }

    [Fact]
    public void Capacity_Defaults_AreVoice1Video1Chat3Email5()
    {
        Assert.Equal(1, ChannelRules.DefaultCapacity[Channel.Voice]);
        Assert.Equal(1, ChannelRules.DefaultCapacity[Channel.Video]);
        Assert.Equal(3, ChannelRules.DefaultCapacity[Channel.Chat]);
        Assert.Equal(5, ChannelRules.DefaultCapacity[Channel.Email]);
    }

    [Theory]
    [InlineData(Channel.Voice, Channel.Chat)]
    [InlineData(Channel.Voice, Channel.Email)]
    [InlineData(Channel.Voice, Channel.Video)]
    [InlineData(Channel.Voice, Channel.Voice)]
    [InlineData(Channel.Video, Channel.Chat)]
    [InlineData(Channel.Video, Channel.Sms)]
    [InlineData(Channel.Video, Channel.Voice)]
    public void Eligibility_ExclusiveVoiceOrVideoActive_BlocksEveryChannel(Channel active, Channel offered)
    {
        // A generous profile, so that capacity alone would allow the offer.
        var capacity = Channels((Channel.Voice, 2), (Channel.Video, 2), (Channel.Chat, 3), (Channel.Sms, 3), (Channel.Email, 5));
        var agent = Agent("a", capacity: capacity, active: Channels((active, 1)));

        Assert.False(Eligible(agent, Session("s", At(0), channel: offered)));
        Assert.True(agent.HoldsExclusive);
        Assert.False(agent.HasFreeCapacity);
    }

    [Theory]
    [InlineData(Channel.Voice, Channel.Chat)]
    [InlineData(Channel.Voice, Channel.Email)]
    [InlineData(Channel.Video, Channel.Wechat)]
    public void Eligibility_VoiceOrVideo_IsOfferedOnlyToAnAgentHoldingNothing(Channel exclusive, Channel held)
    {
        var holdingOne = Agent("a", active: Channels((held, 1)));
        var holdingNothing = Agent("b");
        var holdingZeroCounts = Agent("c", active: Channels((held, 0)));
        var session = Session("s", At(0), channel: exclusive);

        Assert.False(Eligible(holdingOne, session));
        Assert.True(Eligible(holdingNothing, session));
        Assert.True(Eligible(holdingZeroCounts, session));
        Assert.True(Eligible(holdingOne, Session("t", At(0), channel: held)));
    }

    [Fact]
    public void Eligibility_MissingRequiredSkill_IsNotEligible()
    {
        var agent = Agent("a", skills: Skills(("cards", 5)));

        Assert.False(Eligible(agent, Session("s", At(0), skills: Skills(("cards", 1), ("mandarin", 1)))));
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(5, true)]
    public void Eligibility_SkillLevel_MustReachTheRequiredMinimum(int level, bool eligible)
    {
        var agent = Agent("a", skills: Skills(("cards", level)));

        Assert.Equal(eligible, Eligible(agent, Session("s", At(0), skills: Skills(("cards", 3)))));
    }

    [Fact]
    public void Eligibility_EveryRequiredSkillMustBeMet_NotJustOne()
    {
        var agent = Agent("a", skills: Skills(("cards", 5), ("mandarin", 2)));

        Assert.False(Eligible(agent, Session("s", At(0), skills: Skills(("cards", 3), ("mandarin", 3)))));
    }

    [Fact]
    public void Eligibility_NoRequiredSkills_AnyReadyAgentOfTheQueueQualifies()
    {
        Assert.True(Eligible(Agent("a"), Session("s", At(0))));
    }
}
