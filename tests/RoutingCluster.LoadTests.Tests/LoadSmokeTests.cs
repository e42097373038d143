using System.Globalization;
using System.Text.Json;
using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;

namespace RoutingCluster.LoadTests.Tests;

/// <summary>
/// The load driver's main entry, run in-process for about 20 s at a low rate against the real host: every
/// invariant holds, nothing fails, and the RESULT line comes last. Timings are reported, never asserted.
/// </summary>
[Collection(LoadHostCollection.Name)]
public sealed class LoadSmokeTests(KestrelSiloHostFactory host, ITestOutputHelper log) : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "rc-load-smoke-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task LoadRun_AtALowRate_KeepsEveryInvariant_AndPrintsTheResultLineLast()
    {
        var runId = "smoke-" + Guid.NewGuid().ToString("N")[..6];
        string[] args =
        [
            "--target", host.BaseAddress.ToString(), "--rate", "10", "--duration-s", "15", "--agents", "20",
            "--channels", "voice:0.5,chat:0.5", "--elderly-share", "0.2", "--segments", "vip:0.05",
            "--accept-delay-ms", "100", "--talk-s", "1", "--wrap-up-s", "0.5", "--drain-s", "20",
            "--in-time-ms", "600000", "--run-id", runId, "--out", _out,
        ];
        var (exitCode, error, figures) = await DriverRun.RunAsync(args, log);
        Assert.Equal(["sessions_per_s", "p99_offer_ms", "errors", "lost", "double_assigned"], figures.Keys.Take(5));
        Assert.Equal("0", figures["errors"]);
        Assert.Equal("0", figures["lost"]);
        Assert.Equal("0", figures["double_assigned"]);
        Assert.Equal("0", figures["over_capacity"]);
        Assert.Equal("0", figures["ended_twice"]);
        Assert.Equal("0", figures["unfinished"]);
        Assert.True(int.Parse(figures["created"], CultureInfo.InvariantCulture) > 0);
        Assert.Equal(figures["created"], figures["completed"]);
        // Every offer came well within ten minutes: each completed session counts as completed in time.
        Assert.Equal(figures["completed"], figures["completed_in_time"]);
        Assert.Equal(0, exitCode);
        Assert.Empty(error);

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, $"load-{runId}.json")));
        var invariants = json.RootElement.GetProperty("invariants");
        Assert.True(invariants.GetProperty("hold").GetBoolean());
        Assert.True(json.RootElement.GetProperty("counts").GetProperty("agentViewsChecked").GetInt64() > 0);
        Assert.Contains(json.RootElement.GetProperty("latencies").EnumerateArray(), l => l.GetProperty("name").GetString() == LoadRun.OfferFromScheduled);
        Assert.Equal(8, json.RootElement.GetProperty("offerByWindow").GetArrayLength()); // 15 s in windows of 2 s: 0-2 s to 14-15 s
        Assert.True(File.Exists(Path.Combine(_out, $"load-{runId}.md")));
    }

    [Fact]
    public async Task StepMode_AtLowRates_RunsEveryStep_AndReportsTheHighestSustainableRate_WithTheCostPerLifecycle()
    {
        var runId = "step-" + Guid.NewGuid().ToString("N")[..6];
        string[] args =
        [
            "--target", host.BaseAddress.ToString(), "--step-from", "4", "--step-by", "4", "--step-max", "8", "--step-s", "3",
            "--step-p99-ms", "600000", "--agents", "auto", "--accept-delay-ms", "20", "--talk-s", "0.05", "--wrap-up-s", "0",
            "--drain-s", "15", "--watch-stats", "on", "--run-id", runId, "--out", _out,
        ];
        var (exitCode, error, figures) = await DriverRun.RunAsync(args, log);
        Assert.Equal(["sessions_per_s", "p99_offer_ms", "errors", "lost", "double_assigned"], figures.Keys.Take(5));
        Assert.Equal("8", figures["max_sustainable_per_s"]);
        Assert.Equal("2", figures["steps"]);
        Assert.Equal("max", figures["stopped_by"]);
        Assert.Equal("0", figures["lost"]);
        Assert.Equal("0", figures["errors"]);
        Assert.Equal(figures["created"], figures["completed"]);
        Assert.Equal(0, exitCode);
        Assert.Empty(error);

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, $"load-{runId}.json")));
        var steps = json.RootElement.GetProperty("steps");
        Assert.Equal(2, steps.GetArrayLength());
        Assert.All(steps.EnumerateArray(), step =>
        {
            Assert.True(step.GetProperty("verdict").GetProperty("passed").GetBoolean());
            var resources = step.GetProperty("report").GetProperty("resources");
            Assert.True(resources.GetProperty("lifecycles").GetInt32() > 0);
            Assert.True(resources.GetProperty("host").GetProperty("grain calls").GetDouble() > 0);
        });
        Assert.Contains("## Steps", await File.ReadAllTextAsync(Path.Combine(_out, $"load-{runId}.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionIdFor_IsTheIdTheHostGivesToACreateWithThatIdempotencyKey()
    {
        // The driver's own client: its gateway's tokens from the host's dev issuer.
        using var http = LoadTokens.Client(host.BaseAddress);
        var queueId = "q-" + Guid.NewGuid().ToString("N")[..8];
        await http.PutQueueAsync(queueId, new QueueSettings());
        var key = "lt-key-" + Guid.NewGuid().ToString("N");

        var created = await http.CreateSessionAsync(
            new CreateSessionRequest { QueueId = queueId, Channel = Channel.Chat, Customer = new Customer { Id = "c-1" } }, key);

        Assert.Equal(created.Session.Id, LoadRun.SessionIdFor(key));
        await http.AbandonAsync(created.Session.Id);
    }

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }
}
