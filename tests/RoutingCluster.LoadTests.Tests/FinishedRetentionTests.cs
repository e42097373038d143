using System.Globalization;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;

namespace RoutingCluster.LoadTests.Tests;

/// <summary>A host that keeps finished sessions for two seconds, as a long soak's host keeps them for minutes.</summary>
public sealed class ShortRetentionHostFactory() : SiloHostFactory(new SiloHostOptions
{
    Kestrel = true,
    Settings = new Dictionary<string, string> { ["Storage:FinishedSessionRetention"] = "00:00:02" },
});

/// <summary>
/// The driver's end-of-run check against a host that forgets finished sessions: told the host's retention, it counts a
/// session its agent ended long enough before the check and that answers 404 as forgotten and completed; not told, the
/// same 404s count as lost (so the check still catches a session that vanished).
/// </summary>
public sealed class FinishedRetentionTests(ShortRetentionHostFactory host, ITestOutputHelper log) : IClassFixture<ShortRetentionHostFactory>, IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "rc-load-retention-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task SessionsForgottenAfterTheHostsRetention_CountAsForgotten_WhenTheDriverKnowsIt_AndAsLostWhenNot()
    {
        var told = await RunAsync("--finished-retention-s", "2");
        Assert.Equal("0", told.Figures["lost"]);
        Assert.Equal("0", told.Figures["errors"]);
        Assert.Equal(told.Figures["created"], told.Figures["completed"]);
        Assert.True(int.Parse(told.Figures["forgotten"], CultureInfo.InvariantCulture) > 0, "no session was forgotten before the check");
        Assert.Equal(0, told.ExitCode);

        var notTold = await RunAsync();
        Assert.True(int.Parse(notTold.Figures["lost"], CultureInfo.InvariantCulture) > 0, "sessions the host forgot were not counted lost");
        Assert.Equal("0", notTold.Figures["forgotten"]);
    }

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    private Task<DriverRun> RunAsync(params string[] more) => DriverRun.RunAsync(
    [
        "--target", host.BaseAddress.ToString(), "--rate", "10", "--duration-s", "4", "--agents", "10",
        "--accept-delay-ms", "20", "--talk-s", "0.05", "--wrap-up-s", "0", "--drain-s", "20",
        "--run-id", "retention-" + Guid.NewGuid().ToString("N")[..6], "--out", _out, .. more,
    ], log);
}
