using System.Diagnostics;
using System.Globalization;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// The backup-site takeover drill (<c>scripts/drill.sh</c>, docs/operations.md "Losing a site"), small and with a
/// synchronous standby: site A (a primary PostgreSQL and two silo host processes) is killed with SIGKILL under traffic,
/// all of it at once; site B's standby is promoted and site B's two silos start on it. The drill's gateway and agent
/// desktops, given the silos of both sites, fail over by themselves, and keep their own records of what they were told.
/// Every session whose create was acknowledged must be at site B, none may have been accepted by two agents, every
/// accept and end acknowledged before the loss must show at site B, and site B must serve the line that was waiting, in
/// its order.
/// </summary>
[Collection(nameof(SiloProcessCollection))]
public sealed class SiteTakeoverTests(ITestOutputHelper output)
{
    /// <summary>The drill's own limit (GNU timeout sends SIGTERM, on which it stops everything it started), and a
    /// margin for that clean-up. It takes about a minute on a 2-core machine.</summary>
    private static readonly TimeSpan DrillLimit = TimeSpan.FromSeconds(170);

    [Fact]
    public async Task SynchronousStandby_SiteKilledUnderTraffic_BackupSiteHasEveryAcknowledgedSession_AndServesTheLineInOrder()
    {
        var elapsed = Stopwatch.StartNew();
        string[] drill =
        [
            "-k", "20", DrillLimit.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "bash", Path.Combine(TestProcess.RepositoryRoot(), "scripts", "drill.sh"),
            "--mode", "sync", "--sessions", "60", "--rate", "10", "--kill-after", "40", "--agents", "4", "--talk-s", "1", "--settle-s", "60",
#if !DEBUG
            // test.sh built the solution in Release: the silo host and the load driver are there.
            "--no-build",
#endif
        ];
        var run = await TestProcess.RunToEndAsync("timeout", drill, DrillLimit + TimeSpan.FromSeconds(30));
        output.WriteLine(run.Error);
        output.WriteLine(run.Output);
        output.WriteLine($"drill took {elapsed.Elapsed.TotalSeconds:F1} s");

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 2 && lines[^1].StartsWith("RESULT ", StringComparison.Ordinal), $"no RESULT line (exit code {run.ExitCode}):\n{run.Error}");
        var result = Figures(lines[^1]);
        var details = Figures(lines[^2]);

        Assert.Equal("sync", result["mode"]);
        var acknowledged = int.Parse(result["acknowledged"], CultureInfo.InvariantCulture);
        Assert.True(acknowledged > 0, "no create was acknowledged");
        Assert.Equal(acknowledged, int.Parse(result["found"], CultureInfo.InvariantCulture));
        Assert.Equal("0", result["lost"]);
        Assert.Equal("0", result["double_assigned"]);
        Assert.True(double.TryParse(result["served_after_s"], NumberStyles.Float, CultureInfo.InvariantCulture, out var served) && double.IsFinite(served),
            $"site B served nothing (served_after_s={result["served_after_s"]})");

        // What the clients were told before the loss, site B shows; the line waiting then was served in its order.
        Assert.Equal("0", details["accepts_lost"]);
        Assert.Equal("0", details["ends_lost"]);
        Assert.True(int.Parse(details["order_checked"], CultureInfo.InvariantCulture) > 0, "no session was waiting when site A was lost");
        Assert.Equal("0", details["order_inversions"]);
        Assert.Equal("0", details["unserved"]);
        Assert.Equal(0, run.ExitCode);
    }

    private static Dictionary<string, string> Figures(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
}
