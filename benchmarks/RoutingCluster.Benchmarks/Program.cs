using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using RoutingCluster.Benchmarks.Reports;
using RoutingCluster.Benchmarks.Storage;

namespace RoutingCluster.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/RoutingCluster.Benchmarks -- [BenchmarkDotNet arguments]</c>: every
/// benchmark class (<see cref="PostgresUpsertBenchmarks"/> only when <c>RC_BENCH_PG</c> is set).
/// <c>-- scale [--sizes 1000,10000,100000] [--grain-agents 10000] [--grain-sessions 10000] [--in-flight 64] [--agent-queues 1]</c>: <see cref="ScaleReport"/>.
/// <c>-- calls [--sessions 1000] [--follow]</c>: <see cref="CallsReport"/>.
/// <c>-- lifecycles [--workers 64] [--seconds 20] [--queues 1] [--alloc]</c>: <see cref="LifecycleSoak"/> (for profiling).
/// <c>-- trace-cpu FILE [--top 40] [--focus NAME] [--share NAME,NAME]</c>: <see cref="TraceCpuReport"/> (reads a <c>dotnet-trace</c> file).
/// </summary>
public static class BenchmarkProgram
{
    public static async Task Main(string[] args)
    {
        if (args is ["scale", .. var scaleArgs])
        {
            var sizes = Option(scaleArgs, "--sizes", "1000,10000,100000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            await ScaleReport.RunAsync(sizes, int.Parse(Option(scaleArgs, "--grain-agents", "10000")), int.Parse(Option(scaleArgs, "--grain-sessions", "10000")),
                int.Parse(Option(scaleArgs, "--in-flight", "64")), int.Parse(Option(scaleArgs, "--agent-queues", "1")));
            return;
        }

        if (args is ["calls", .. var callArgs])
        {
            await CallsReport.RunAsync(int.Parse(Option(callArgs, "--sessions", "1000")), callArgs.Contains("--follow"));
            return;
        }

        if (args is ["trace-cpu", var traceFile, .. var traceArgs])
        {
            TraceCpuReport.Run(traceFile, int.Parse(Option(traceArgs, "--top", "40"), System.Globalization.CultureInfo.InvariantCulture),
                Array.IndexOf(traceArgs, "--focus") >= 0 ? Option(traceArgs, "--focus", string.Empty) : null,
                Option(traceArgs, "--share", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries));
            return;
        }

        if (args is ["lifecycles", .. var soakArgs])
        {
            await LifecycleSoak.RunAsync(int.Parse(Option(soakArgs, "--workers", "64")), double.Parse(Option(soakArgs, "--seconds", "20"), System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(Option(soakArgs, "--queues", "1")), soakArgs.Contains("--alloc"));
            return;
        }

        var types = typeof(BenchmarkProgram).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true } && t.GetMethods().Any(m => m.IsDefined(typeof(BenchmarkAttribute), false)))
            .Where(t => t != typeof(PostgresUpsertBenchmarks) || PostgresUpsertBenchmarks.ConnectionString is not null)
            .ToArray();
        BenchmarkSwitcher.FromTypes(types).Run(args);
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
