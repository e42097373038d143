using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

public sealed class MixTests
{
    [Fact]
    public void ParseChannels_NormalizesTheWeights_AndPicksInProportion()
    {
        var mix = Mixes.ParseChannels("voice:1, chat:3,5g:4", "channels");

        Assert.Equal([(Channel.Voice, 0.125), (Channel.Chat, 0.375), (Channel.FiveG, 0.5)], mix.Items);
        var random = new Random(1);
        var picks = Enumerable.Range(0, 80_000).Select(_ => mix.Pick(random.NextDouble())).ToList();
        Assert.InRange(picks.Count(c => c == Channel.Voice) / 80_000.0, 0.115, 0.135);
        Assert.InRange(picks.Count(c => c == Channel.FiveG) / 80_000.0, 0.49, 0.51);
        Assert.Equal("voice:0.125,chat:0.375,5g:0.5", mix.ToString());
    }

    [Theory]
    [InlineData("", "--channels is empty")]
    [InlineData("fax:1", "'fax' is not a channel (one of voice, video, chat, app, wechat, sms, email, weibo, 5g)")]
    [InlineData("voice", "'voice' is not name:value")]
    [InlineData("voice:", "'voice:' is not name:value")]
    [InlineData(":0.5", "':0.5' is not name:value")]
    [InlineData("voice:0", "the share of 'voice' must be a number greater than 0, not '0'")]
    [InlineData("voice:-1", "the share of 'voice' must be a number greater than 0, not '-1'")]
    [InlineData("voice:half", "the share of 'voice' must be a number greater than 0, not 'half'")]
    [InlineData("voice:NaN", "the share of 'voice' must be a number greater than 0, not 'NaN'")]
    [InlineData("voice:0.5,voice:0.5", "'voice' is given twice")]
    [InlineData("Voice:1", "'Voice' is not a channel")]
    public void ParseChannels_RefusesWhatIsNotAMix_NamingTheOptionAndTheProblem(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => Mixes.ParseChannels(text, "channels"));

        Assert.StartsWith("--channels", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cards loans:1", "'cards loans' is not a valid skill name")]
    [InlineData("cards:1,cards:2", "'cards' is given twice")]
    public void ParseSkills_RefusesBadNamesAndRepeats(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => Mixes.ParseSkills(text, "skills"));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseCapacity_ReadsWholeNumbersPerChannel()
    {
        var capacity = Mixes.ParseCapacity("voice:1,chat:3,email:0", "capacity");

        Assert.Equal(new Dictionary<Channel, int> { [Channel.Voice] = 1, [Channel.Chat] = 3, [Channel.Email] = 0 }, capacity);
    }

    [Theory]
    [InlineData("voice:1.5", "the capacity of 'voice' must be a whole number from 0 to 100, not '1.5'")]
    [InlineData("chat:101", "the capacity of 'chat' must be a whole number from 0 to 100, not '101'")]
    [InlineData("chat:-1", "not '-1'")]
    public void ParseCapacity_RefusesWhatTheApiWouldRefuse(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => Mixes.ParseCapacity(text, "capacity"));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSegments_ReadsSharesOfDeclaredSegments_AndSendsElderlyToItsOwnOption()
    {
        Assert.Equal(new Dictionary<Segment, double> { [Segment.Vip] = 0.05, [Segment.Disabled] = 0.02 }, Mixes.ParseSegments("vip:0.05,disabled:0.02", "segments"));
        Assert.Empty(Mixes.ParseSegments(string.Empty, "segments"));
        Assert.Contains("--elderly-share", Assert.Throws<ArgumentException>(() => Mixes.ParseSegments("elderly:0.2", "segments")).Message, StringComparison.Ordinal);
        Assert.Contains("must be a number from 0 to 1", Assert.Throws<ArgumentException>(() => Mixes.ParseSegments("vip:1.5", "segments")).Message, StringComparison.Ordinal);
        Assert.Contains("'gold' is not a segment", Assert.Throws<ArgumentException>(() => Mixes.ParseSegments("gold:0.1", "segments")).Message, StringComparison.Ordinal);
    }
}
