using System.Diagnostics;
using System.Globalization;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// A silo host process stopped with SIGTERM, as an orchestrator stops it, with <c>Hosting:ShutdownTimeoutSeconds</c> = 5:
/// with the database up it stops gracefully (exit code 0); with PostgreSQL down it cannot leave the membership table,
/// and Orleans keeps trying well past the timeout (about two minutes on its own), so the shutdown watchdog ends it
/// soon after the timeout, with exit code 3 and a line that says what was not written.
/// </summary>
[Collection(nameof(SiloProcessCollection))]
public sealed class ShutdownTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    private const int ShutdownTimeoutSeconds = 5;

    /// <summary>Generous: the watchdog ends the process 5 s after the timeout; a loaded machine may be slower.</summary>
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 20);

    private static readonly TimeSpan StartWithin = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sigterm_WithTheDatabaseDown_EndsTheProcessSoonAfterTheShutdownTimeout_WithExitCode3_SayingWhatWasNotWritten()
    {
        using var silo = await StartWithStateAsync("shutdowndown");
        await postgres.StopServerAsync();
        try
        {
            var stopping = Stopwatch.StartNew();
            await silo.Terminate();
            var exitCode = await silo.WaitForExitAsync(ExitWithin);
            output.WriteLine($"database down: SIGTERM -> {(exitCode is { } code ? $"exit code {code} after {stopping.Elapsed.TotalSeconds:F1} s" : $"still running after {stopping.Elapsed.TotalSeconds:F1} s")}");
            output.WriteLine(silo.Tail(12));

            Assert.True(exitCode is not null, $"the silo still ran {ExitWithin.TotalSeconds:F0} s after SIGTERM (shutdown timeout {ShutdownTimeoutSeconds} s)");
            Assert.Equal(ShutdownWatchdog.ExitCode, exitCode);
            Assert.Contains(silo.Log, line => line.Contains("SHUTDOWN WATCHDOG", StringComparison.Ordinal) && line.Contains("Not written:", StringComparison.Ordinal));
        }
        finally
        {
            await postgres.StartServerAsync();
        }
    }

    [Fact]
    public async Task Sigterm_WithTheDatabaseUp_StopsGracefully_WithExitCode0()
    {
        using var silo = await StartWithStateAsync("shutdownup");
        var stopping = Stopwatch.StartNew();
        await silo.Terminate();
        var exitCode = await silo.WaitForExitAsync(ExitWithin);
        output.WriteLine($"database up: SIGTERM -> {(exitCode is { } code ? $"exit code {code} after {stopping.Elapsed.TotalSeconds:F1} s" : "still running")}");

        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(silo.Log, line => line.Contains("SHUTDOWN WATCHDOG", StringComparison.Ordinal));
    }

    /// <summary>A silo process on a schema of its own, with a queue, an agent holding an offer, waiting sessions and
    /// statistics: grains with state to write and statistics not yet persisted.</summary>
    private async Task<SiloProcess> StartWithStateAsync(string purpose)
    {
        var silo = new SiloProcess(0, await postgres.CreateSchemaAsync(purpose), new Dictionary<string, string>
        {
            ["Hosting:ShutdownTimeoutSeconds"] = ShutdownTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["Stats:PersistInterval"] = "00:01:00",
        });
        try
        {
            silo.Start();
            await silo.WaitReadyAsync(StartWithin);
            using var http = new HttpClient(TestTokens.Handler(new HttpClientHandler())) { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            var api = new HostApi(http);
            await api.PutQueue("cards");
            await api.PutAgent("a-1", "cards");
            await api.SetState("a-1", "ready");
            for (var i = 0; i < 3; i++)
            {
                await api.CreateSessionOf("cards", $"c-{i}");
            }

            await api.PollUntil("/v1/agents/a-1", agent => agent["offers"]!.AsArray().Count == 1, TimeSpan.FromSeconds(10), "the agent holds an offer");
            return silo;
        }
        catch
        {
            output.WriteLine(silo.Tail());
            silo.Dispose();
            throw;
        }
    }
}
