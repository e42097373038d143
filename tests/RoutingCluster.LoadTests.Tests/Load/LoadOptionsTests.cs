using System.Globalization;
using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

public sealed class LoadOptionsTests
{
    [Fact]
    public void Parse_WithoutOptions_GivesTheDocumentedDefaults()
    {
        var options = LoadOptions.Parse([]);

        Assert.Equal(new Uri("http://127.0.0.1:5000"), options.Target);
        Assert.Equal(50, options.Rate);
        Assert.Equal(30, options.DurationSeconds);
        Assert.Equal(100_000, options.MaxSessions);
        Assert.Equal(50, options.Agents);
        Assert.Equal(200, options.AcceptDelayMs);
        Assert.Equal(3, options.TalkSeconds);
        Assert.Equal(1, options.WrapUpSeconds);
        Assert.Equal(0, options.ElderlyShare);
        Assert.Equal("voice:0.5,chat:0.5", options.Channels.ToString());
        Assert.Equal(new Dictionary<Channel, int> { [Channel.Voice] = 1, [Channel.Chat] = 3 }, options.Capacity);
        Assert.Equal(Path.Combine("loadtests", "results"), options.OutDirectory);
        Assert.Matches("^[0-9a-f]{8}$", options.RunId);
        Assert.NotEqual(options.RunId, LoadOptions.Parse([]).RunId);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5090")]
    [InlineData("http://localhost:5000/")]
    [InlineData("http://[::1]:5000")]
    [InlineData("https://LOCALHOST:5001")]
    public void Parse_AcceptsLoopbackTargets(string target)
    {
        Assert.Equal(new Uri(target), LoadOptions.Parse(["--target", target]).Target);
    }

    [Theory]
    [InlineData("http://10.0.0.5:5000")]
    [InlineData("http://example.com")]
    [InlineData("http://127.0.0.2:5000")]
    [InlineData("http://0.0.0.0:5000")]
    [InlineData("http://localhost.example.com:5000")]
    public void Parse_RefusesATargetOffThisMachine_WithAClearError(string target)
    {
        var error = Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--target", target]));

        Assert.Contains("only loads a host on this machine (127.0.0.1, ::1 or localhost)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/", "is not an absolute http:// or https:// URL")]
    [InlineData("127.0.0.1:5000", "is not an absolute http:// or https:// URL")]
    public void Parse_RefusesATargetThatIsNotAnHttpUrl(string target, string message)
    {
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--target", target])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--duration-s", "601", "--duration-s must be a whole number from 1 to 600, not '601'")]
    [InlineData("--duration-s", "0", "--duration-s must be a whole number from 1 to 600")]
    [InlineData("--rate", "0", "--rate must be a number from 0.01 to 100000, not '0'")]
    [InlineData("--rate", "fast", "--rate must be a number")]
    [InlineData("--max-sessions", "0", "--max-sessions must be a whole number from 1 to 1000000")]
    [InlineData("--agents", "-3", "--agents must be a whole number")]
    [InlineData("--elderly-share", "1.2", "--elderly-share must be a number from 0 to 1, not '1.2'")]
    [InlineData("--elderly-age", "40", "--elderly-age must be a whole number from 65 to 150")]
    [InlineData("--skill-level", "6", "--skill-level must be a whole number from 1 to 5")]
    [InlineData("--run-id", "a b", "--run-id 'a b' must be 1-40 characters")]
    [InlineData("--warmup-s", "30", "--warmup-s (30) must be shorter than --duration-s (30)")]
    [InlineData("--capacity", "voice:1", "--capacity gives agents no capacity for chat, which --channels uses")]
    [InlineData("--speed", "3", "Unknown option(s): --speed")]
    public void Parse_RefusesABadOption_NamingIt(string option, string value, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => LoadOptions.Parse([option, value]));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RefusesASkillThatNoAgentWouldHave()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            LoadOptions.Parse(["--agents", "3", "--skills", "cards:0.9,loans:0.05,fx:0.05", "--cross-trained", "0"]));

        Assert.Contains("--agents 3 gives no agent the skill 'loans'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_DocumentsEveryOptionTheCommandReads()
    {
        var names = LoadOptions.OptionNames();

        Assert.True(names.Count >= 20, string.Join(", ", names));
        Assert.All(names, name => Assert.Contains($"--{name} ", LoadOptions.Usage, StringComparison.Ordinal));
        Assert.Contains("--help", LoadOptions.Usage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Program_WithHelp_PrintsTheUsage_AndWithABadOption_ExitsWith2AndSaysWhy()
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);

        var help = await Program.RunAsync(["--help"], output, error);
        var bad = await Program.RunAsync(["--target", "http://192.168.1.10:5000"], output, error);
        var unknown = await Program.RunAsync(["flood"], output, error);

        Assert.Equal(0, help);
        Assert.Contains("--elderly-share", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, bad);
        Assert.Equal(2, unknown);
        Assert.Contains("--target host '192.168.1.10' is not allowed", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Unknown command 'flood'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AgentsNeeded_IsTheOfferedLoadOverTheCapacity()
    {
        // 100/s, half voice (capacity 1) and half chat (capacity 3), each holding a slot 0.2 + 3 + 1 = 4.2 s.
        var options = LoadOptions.Parse(["--rate", "100"]);

        Assert.Equal((50 * 4.2) + (50 * 4.2 / 3), options.AgentsNeeded(), 9);
    }
}
