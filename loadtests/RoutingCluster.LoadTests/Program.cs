using RoutingCluster.LoadTests.Load;
using RoutingCluster.LoadTests.Takeover;

namespace RoutingCluster.LoadTests;

/// <summary>
/// The load driver's commands. Each runs against a host started separately, on loopback only. The main load test
/// is the default command (the first argument is an option); <c>offer-latency</c> is the older, narrower one;
/// <c>site-takeover</c> is the client side of the backup-site drill (<c>scripts/drill.sh</c>).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C ends the arrivals (the run still drains, checks and reports); a second one kills it.
            e.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        };
        return await RunAsync(args, Console.Out, Console.Error, stop.Token);
    }

    /// <summary>The entry point, with the output and the stop signal given (so that tests can run it in-process).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count == 0 || args.Any(a => a is "--help" or "-h") || args[0] == "help")
        {
            await output.WriteLineAsync(LoadOptions.Usage);
            return 0;
        }

        if (args[0] == "offer-latency")
        {
            return await OfferLatency.RunAsync([.. args.Skip(1)]);
        }

        if (args[0] == "site-takeover")
        {
            return await SiteTakeover.RunAsync([.. args.Skip(1)], output, error, stop);
        }

        if (!args[0].StartsWith("--", StringComparison.Ordinal))
        {
            await error.WriteLineAsync($"Unknown command '{args[0]}'. Run with --help for the commands and options.");
            return 2;
        }

        return await LoadRun.RunAsync(args, output, error, stop);
    }
}
