using Microsoft.Diagnostics.Tracing.Etlx;

namespace RoutingCluster.Benchmarks.Reports;

/// <summary>
/// <c>trace-cpu FILE [--top 40] [--focus NAME] [--share NAME,NAME...]</c>: where a silo's running threads were, from a <c>dotnet-trace</c>
/// file taken with <c>--profile dotnet-sampled-thread-time</c> (as <c>scripts/perf-run.sh</c> does with
/// <c>PERF_TRACE_S</c>). That profile samples every managed thread every millisecond, waiting or not; this report keeps
/// only the samples taken while a thread ran managed code (the sampler's "managed" kind) and ranks methods by those,
/// exclusive (the top frame) and inclusive (anywhere on the stack), and modules by the top frame. With <c>--focus</c>
/// it prints instead the commonest call chains leading to the methods whose name contains NAME. With <c>--share</c> it
/// also prints the share of the running samples that have, anywhere on their stack, a method whose name contains one
/// of the NAMEs (each sample counted once): what one grain class costs with everything it calls, for example
/// <c>--share Queues.QueueGrain,IQueueGrain,QueueDispatcher</c> for a queue's own turns. Work in native code (the
/// GC's own threads, the JIT, the kernel) is not sampled at all; what the report ranks is the managed part of the CPU.
/// </summary>
internal static class TraceCpuReport
{
    private const string SampleProfiler = "Microsoft-DotNETCore-SampleProfiler";
    private const int ManagedSample = 2;

    public static void Run(string path, int top, string? focus, IReadOnlyList<string>? share = null)
    {
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(path));
        var exclusive = new Dictionary<string, int>(StringComparer.Ordinal);
        var inclusive = new Dictionary<string, int>(StringComparer.Ordinal);
        var modules = new Dictionary<string, int>(StringComparer.Ordinal);
        var chains = new Dictionary<string, int>(StringComparer.Ordinal);
        int running = 0, waiting = 0, shared = 0;
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sample in log.Events)
        {
            if (sample.ProviderName != SampleProfiler || sample.PayloadNames.Length == 0)
            {
                continue;
            }

            if (Convert.ToInt32(sample.PayloadValue(0), System.Globalization.CultureInfo.InvariantCulture) != ManagedSample)
            {
                waiting++;
                continue;
            }

            running++;
            if (sample.CallStack() is not { } stack)
            {
                continue;
            }

            if (share is { Count: > 0 } && OnStack(stack, share))
            {
                shared++;
            }

            if (focus is not null)
            {
                if (ChainTo(stack, focus) is { } chain)
                {
                    Add(chains, chain);
                }

                continue;
            }

            Add(exclusive, Name(stack));
            Add(modules, string.IsNullOrEmpty(stack.CodeAddress.ModuleName) ? "(native or unresolved)" : stack.CodeAddress.ModuleName);
            onStack.Clear();
            for (var frame = stack; frame is not null; frame = frame.Caller)
            {
                if (onStack.Add(Name(frame)))
                {
                    Add(inclusive, Name(frame));
                }
            }
        }

        Console.WriteLine($"# trace-cpu {Path.GetFileName(path)}: {running:N0} samples of threads running managed code, {waiting:N0} of threads waiting or in native code");
        if (share is { Count: > 0 })
        {
            Console.WriteLine($"Samples with {string.Join(" or ", share)} on the stack: {shared:N0}, {shared * 100.0 / Math.Max(1, running):F1}% of the running samples");
        }

        if (focus is not null)
        {
            Console.WriteLine($"Call chains to methods containing '{focus}' (innermost first), by samples:");
            foreach (var (chain, count) in chains.OrderByDescending(p => p.Value).Take(top))
            {
                Console.WriteLine($"{count,7}  {chain}");
            }

            return;
        }

        Print("Modules (top frame)", modules, running, top);
        Print("Methods, exclusive", exclusive, running, top);
        Print("Methods, inclusive", inclusive, running, top * 2);
    }

    private static string Name(TraceCallStack frame)
    {
        var name = frame.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(name))
        {
            return "? " + frame.CodeAddress.ModuleName;
        }

        var parameters = name.IndexOf('(', StringComparison.Ordinal);
        return parameters > 0 ? name[..parameters] : name;
    }

    private static string? ChainTo(TraceCallStack stack, string focus)
    {
        var names = new List<string>();
        for (var frame = stack; frame is not null && names.Count < 9; frame = frame.Caller)
        {
            var name = Name(frame);
            if (names.Count > 0 || name.Contains(focus, StringComparison.Ordinal))
            {
                names.Add(name);
            }
        }

        return names.Count == 0 ? null : string.Join(Environment.NewLine + "           <- ", names);
    }

    private static bool OnStack(TraceCallStack stack, IReadOnlyList<string> names)
    {
        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var name = Name(frame);
            foreach (var n in names)
            {
                if (name.Contains(n, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void Add(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    private static void Print(string title, Dictionary<string, int> counts, int total, int top)
    {
        Console.WriteLine();
        Console.WriteLine(title + ", share of the running samples:");
        foreach (var (name, count) in counts.OrderByDescending(p => p.Value).Take(top))
        {
            Console.WriteLine($"{count * 100.0 / Math.Max(1, total),6:F1}%  {name}");
        }
    }
}
