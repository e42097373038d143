using System.Globalization;
using RoutingCluster.LoadTests.Takeover;

namespace RoutingCluster.LoadTests.Tests.Takeover;

public sealed class TakeoverOptionsTests
{
    private static readonly string[] Sites = ["--site-a", "http://127.0.0.1:5001,http://127.0.0.1:5002", "--site-b", "http://127.0.0.1:5003,http://127.0.0.1:5004", "--control", "/tmp/drill"];

    [Fact]
    public void Parse_WithTheSitesOnly_GivesTheDocumentedDefaults_AndSiteAFirst()
    {
        var options = TakeoverOptions.Parse(Sites);

        Assert.Equal(200, options.Sessions);
        Assert.Equal(20, options.Rate);
        Assert.Equal(120, options.KillAfter);
        Assert.Equal(8, options.Agents);
        Assert.Equal(1, options.TalkSeconds);
        Assert.Equal(30, options.OfferTimeoutSeconds);
        Assert.Equal(90, options.SettleSeconds);
        Assert.Null(options.Trace);
        Assert.Equal(
            ["http://127.0.0.1:5001/", "http://127.0.0.1:5002/", "http://127.0.0.1:5003/", "http://127.0.0.1:5004/"],
            options.AllSilos.Select(s => s.ToString()));
    }

    [Theory]
    [InlineData("--site-b")]
    [InlineData("--control")]
    public void Parse_WithoutASiteOrTheControlFolder_SaysWhatIsMissing(string missing)
    {
        var args = Sites.Chunk(2).Where(pair => pair[0] != missing).SelectMany(pair => pair).ToArray();

        var error = Assert.Throws<ArgumentException>(() => TakeoverOptions.Parse(args));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KillPointBeyondTheSessions_AndASiteOffThisMachine_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => TakeoverOptions.Parse([.. Sites, "--sessions", "10", "--kill-after", "11"]));
        Assert.Throws<ArgumentException>(() => TakeoverOptions.Parse(["--site-a", "http://10.0.0.1:5000", "--site-b", "http://127.0.0.1:5003", "--control", "/tmp/drill"]));
    }

    [Fact]
    public async Task Program_SiteTakeover_WithABadOption_ExitsWith2AndSaysWhy()
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = await Program.RunAsync(["site-takeover", .. Sites, "--flood", "1"], output, error);

        Assert.Equal(2, code);
        Assert.Contains("--flood", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_DocumentsEveryOptionTheCommandReads_InTheDriversHelp()
    {
        var names = TakeoverOptions.OptionNames();

        Assert.Contains("kill-after", names);
        Assert.All(names, name => Assert.Contains($"--{name} ", TakeoverOptions.Usage, StringComparison.Ordinal));
        Assert.Contains(TakeoverOptions.Usage, LoadTests.Load.LoadOptions.Usage, StringComparison.Ordinal);
    }
}
