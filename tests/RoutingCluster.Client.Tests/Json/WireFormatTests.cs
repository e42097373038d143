using System.Text.Json;

namespace RoutingCluster.Client.Tests.Json;

/// <summary>The client's JSON conventions and retry policy, without a server.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public void Json_WritesCamelCaseFields_KebabCaseEnums_5g_AndHeadStarts_AndLeavesNullsOut()
    {
        var json = JsonSerializer.Serialize(new QueueSettings
        {
            AgentSelection = AgentSelection.MostSkilled,
            HeadStart = new Dictionary<Segment, HeadStart> { [Segment.Vip] = HeadStart.Strict, [Segment.Elderly] = HeadStart.OfSeconds(45) },
        }, RoutingJson.Options);
        var profile = JsonSerializer.Serialize(new AgentProfile { Capacity = new Dictionary<Channel, int> { [Channel.FiveG] = 2, [Channel.Wechat] = 1 } }, RoutingJson.Options);
        var state = JsonSerializer.Serialize(new AgentStateChange(AgentState.NotReady, "break"), RoutingJson.Options);

        Assert.Equal("""{"headStart":{"vip":"strict","elderly":45},"agentSelection":"most-skilled"}""", json);
        Assert.Equal("""{"capacity":{"5g":2,"wechat":1}}""", profile);
        Assert.Equal("""{"state":"not-ready","reason":"break"}""", state);
    }

    [Fact]
    public void Json_ReadsTheServersShapes_IncludingAHeadStartWrittenAsText()
    {
        var agent = JsonSerializer.Deserialize<AgentView>(
            """{"id":"a-1","state":"logged-out","stateSince":"2026-11-23T12:44:39.8960202Z","sessions":[{"sessionId":"s-1","channel":"5g","state":"wrap-up","queueId":"q","since":"2026-11-23T12:44:39Z","wrapUpUntil":null}],"offers":[],"capacity":{"5g":3}}""",
            RoutingJson.Options)!;
        var explanation = JsonSerializer.Deserialize<SessionExplanation>(
            """{"decision":"agent-surplus","agentId":"a-1","strategy":"longest-idle","headStart":"60"}""", RoutingJson.Options)!;

        Assert.Equal(AgentState.LoggedOut, agent.State);
        Assert.Equal(HeldState.WrapUp, agent.Sessions[0].State);
        Assert.Equal(Channel.FiveG, agent.Sessions[0].Channel);
        Assert.Equal(3, agent.Capacity[Channel.FiveG]);
        Assert.Equal(HeadStart.OfSeconds(60), explanation.HeadStart);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<AgentStateChange>("""{"state":1}""", RoutingJson.Options));
    }

    [Fact]
    public void WireNames_AreTheContractsKebabCaseNames_AndWhatTheJsonWrites()
    {
        Assert.Equal(["voice", "video", "chat", "app", "wechat", "sms", "email", "weibo", "5g"], WireNames.Of(typeof(Channel)));
        Assert.Equal(["elderly", "disabled", "military", "vip"], WireNames.Of(typeof(Segment)));
        Assert.Equal(["logged-out", "ready", "not-ready"], WireNames.Of(typeof(AgentState)));
        Assert.Equal(["offered", "connected", "wrap-up"], WireNames.Of(typeof(HeldState)));
        Assert.Equal(["queued", "offered", "connected", "wrap-up", "completed", "abandoned", "overflowed", "refused"], WireNames.Of(typeof(SessionState)));
        Assert.Equal(["longest-idle", "most-skilled"], WireNames.Of(typeof(AgentSelection)));
        Assert.Equal(["queued", "position", "offered", "connected", "ended", "completed", "abandoned", "overflowed", "transferred", "refused"], WireNames.Of(typeof(SessionEventType)));

        AssertJsonAndParse<Channel>();
        AssertJsonAndParse<Segment>();
        AssertJsonAndParse<AgentState>();
        AssertJsonAndParse<HeldState>();
        AssertJsonAndParse<SessionState>();
        AssertJsonAndParse<AgentSelection>();
        AssertJsonAndParse<SessionEventType>();
        Assert.False(WireNames<AgentState>.TryParse("NotReady", out _));
        Assert.False(WireNames<AgentState>.TryParse("2", out _));
        Assert.False(WireNames<AgentState>.TryParse(null, out _));
    }

    private static void AssertJsonAndParse<T>()
        where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            var name = WireNames<T>.Of(value);
            Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(value, RoutingJson.Options));
            Assert.True(WireNames<T>.TryParse(name, out var parsed));
            Assert.Equal(value, parsed);
        }
    }

    [Fact]
    public void RetryPolicy_DelaysGrowExponentially_WithJitter_AndNeverExceedMaxDelay()
    {
        var policy = new RetryPolicy { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
        var random = new Random(7);

        for (var retry = 1; retry <= 8; retry++)
        {
            var exponential = Math.Min(1000, 100 * Math.Pow(2, retry - 1));
            for (var i = 0; i < 50; i++)
            {
                var delay = policy.DelayBefore(retry, random: random).TotalMilliseconds;
                Assert.InRange(delay, exponential / 2, exponential);
            }
        }

        Assert.Equal(TimeSpan.FromMilliseconds(700), policy.DelayBefore(1, retryAfter: TimeSpan.FromMilliseconds(700)));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayBefore(1, retryAfter: TimeSpan.FromMinutes(5)));
    }
}
