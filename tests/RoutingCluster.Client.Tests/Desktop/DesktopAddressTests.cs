namespace RoutingCluster.Client.Tests.Desktop;

/// <summary>The silo addresses an <see cref="AgentDesktopClient"/> accepts (nothing connects: no host needed).</summary>
public sealed class DesktopAddressTests
{
    [Fact]
    public async Task SeveralSilos_AreKeptInTheOrderGiven_AndNoneIsCurrentBeforeConnecting()
    {
        Uri[] silos = [new("http://10.0.0.12:5000/"), new("https://silo-1.bank.example/routing/"), new("http://10.0.0.11:5000")];

        await using var desktop = new AgentDesktopClient(silos);

        Assert.Equal(silos, desktop.BaseAddresses);
        Assert.Null(desktop.CurrentAddress);
    }

    [Fact]
    public void NoList_Throws()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new AgentDesktopClient((IReadOnlyList<Uri>)null!));

        Assert.Equal("baseAddresses", error.ParamName);
    }

    [Fact]
    public void NoSingleAddress_Throws()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new AgentDesktopClient((Uri)null!));

        Assert.Equal("baseAddress", error.ParamName);
    }

    [Fact]
    public void AnEmptyList_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentDesktopClient(Array.Empty<Uri>()));

        Assert.Equal("baseAddresses", error.ParamName);
        Assert.Contains("at least one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANullAddress_Throws_NamingItsPlace()
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentDesktopClient([new Uri("http://10.0.0.11:5000/"), null!]));

        Assert.Equal("baseAddresses", error.ParamName);
        Assert.Contains("[1] is null", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARelativeAddress_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentDesktopClient([new Uri("http://10.0.0.11:5000/"), new Uri("silo-2/", UriKind.Relative)]));

        Assert.Equal("baseAddresses", error.ParamName);
        Assert.Contains("[1] 'silo-2/' is not an absolute URI", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ws://10.0.0.11:5000/")]
    [InlineData("wss://10.0.0.11:5000/")]
    [InlineData("ftp://10.0.0.11/")]
    [InlineData("file:///tmp/silo")]
    public void AnAddressThatIsNotHttpOrHttps_Throws(string address)
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentDesktopClient([new Uri("http://10.0.0.11:5000/"), new Uri(address)]));

        Assert.Equal("baseAddresses", error.ParamName);
        Assert.Contains("must be http or https", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASingleAddressThatIsNotHttpOrHttps_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentDesktopClient(new Uri("ws://10.0.0.11:5000/")));

        Assert.Contains("must be http or https", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.11:5000/", "http://10.0.0.11:5000/")]
    [InlineData("http://10.0.0.11:5000", "http://10.0.0.11:5000/")]
    [InlineData("http://SILO-1.bank.example:5000/", "http://silo-1.bank.example:5000")]
    [InlineData("http://silo-1.bank.example/", "http://silo-1.bank.example:80/")]
    [InlineData("https://silo-1.bank.example/routing", "https://silo-1.bank.example:443/routing/")]
    public void TheSameSiloTwice_Throws(string first, string second)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new AgentDesktopClient([new Uri(first), new Uri("http://10.0.0.12:5000/"), new Uri(second)]));

        Assert.Equal("baseAddresses", error.ParamName);
        Assert.Contains("[2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("is the same as [0]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.11:5000/", "https://10.0.0.11:5000/")]
    [InlineData("http://10.0.0.11:5000/", "http://10.0.0.11:5001/")]
    [InlineData("http://lb.bank.example/a/", "http://lb.bank.example/b/")]
    public async Task DifferentSilos_AreAccepted(string first, string second)
    {
        await using var desktop = new AgentDesktopClient([new Uri(first), new Uri(second)]);

        Assert.Equal(2, desktop.BaseAddresses.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void ANonPositiveSiloConnectTimeout_Throws(int seconds)
    {
        var options = new AgentDesktopOptions { SiloConnectTimeout = TimeSpan.FromSeconds(seconds) };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new AgentDesktopClient([new Uri("http://10.0.0.11:5000/")], options));

        Assert.Equal("options", error.ParamName);
    }
}
