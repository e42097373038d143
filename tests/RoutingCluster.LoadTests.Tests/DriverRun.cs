using System.Globalization;
using RoutingCluster.LoadTests.Load;
using Xunit.Abstractions;

namespace RoutingCluster.LoadTests.Tests;

/// <summary>The load driver run in this process as its command line would run it, with what it printed and the figures
/// of its last line, which must be its RESULT line.</summary>
internal sealed record DriverRun(int ExitCode, string Error, IReadOnlyDictionary<string, string> Figures)
{
    public static async Task<DriverRun> RunAsync(string[] args, ITestOutputHelper log)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);

        var exitCode = await Program.RunAsync(args, TextWriter.Synchronized(output), TextWriter.Synchronized(error));

        log.WriteLine(output.ToString());
        log.WriteLine(error.ToString());
        var result = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        Assert.StartsWith("RESULT sessions_per_s=", result, StringComparison.Ordinal);
        var figures = result["RESULT ".Length..].Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return new DriverRun(exitCode, error.ToString(), figures);
    }
}
