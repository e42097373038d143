using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using RoutingCluster.LoadTests.Load;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;

namespace RoutingCluster.LoadTests.Tests;

/// <summary>
/// About 10 s of arrivals far beyond what a small machine serves (600 sessions/s, about 2.6 times the highest
/// sustainable rate measured on two cores), against a host of its own: what the host admits it serves correctly, it
/// refuses only with 503 (overloaded) or 429, and it stays up. Invariants are asserted, never a timing or how many were
/// turned away (that depends on the machine).
/// </summary>
public sealed class OverloadSmokeTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "rc-overload-smoke-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task LoadRun_FarBeyondCapacity_KeepsEveryInvariantOfTheAdmitted_RefusesOnlyWith503Or429_AndTheHostStaysReady()
    {
        using var host = SiloHostFactory.Create(new SiloHostOptions { Kestrel = true });
        var runId = "surge-" + Guid.NewGuid().ToString("N")[..6];
        string[] args =
        [
            "--target", host.BaseAddress.ToString(), "--rate", "600", "--duration-s", "10", "--agents", "100",
            "--channels", "voice:0.5,chat:0.5", "--elderly-share", "0.2", "--segments", "vip:0.05",
            "--accept-delay-ms", "50", "--talk-s", "0.3", "--wrap-up-s", "0", "--drain-s", "60",
            "--run-id", runId, "--out", _out,
        ];
        var (exitCode, error, figures) = await DriverRun.RunAsync(args, log);

        // Nothing lost, offered twice, over capacity or ended twice among the admitted.
        Assert.Equal("0", figures["lost"]);
        Assert.Equal("0", figures["double_assigned"]);
        Assert.Equal("0", figures["over_capacity"]);
        Assert.Equal("0", figures["ended_twice"]);
        Assert.True(int.Parse(figures["created"], CultureInfo.InvariantCulture) + int.Parse(figures["completed"], CultureInfo.InvariantCulture) > 0);
        Assert.NotEqual(1, exitCode); // 1: an invariant broke

        // Every answer that refused something was a 503 or a 429; no agent action (accept, end, state) was refused by
        // the server. What the driver counts besides is no answer at all within its timeouts (a machine that gives the
        // process too little CPU), never a wrong one.
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, $"load-{runId}.json")));
        var errorKinds = json.RootElement.GetProperty("errorsByKind").EnumerateObject().Select(e => e.Name).ToList();
        Assert.DoesNotContain(errorKinds, kind => Regex.IsMatch(kind, @" (\d{3})$") && !kind.EndsWith(" 503", StringComparison.Ordinal) && !kind.EndsWith(" 429", StringComparison.Ordinal));
        Assert.DoesNotContain(errorKinds, kind => Regex.IsMatch(kind, "^hub (Accept|End|SetState) "));

        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("health/ready", UriKind.Relative))).StatusCode);
    }

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }
}
