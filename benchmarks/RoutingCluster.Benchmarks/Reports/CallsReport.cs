using System.Diagnostics;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Benchmarks.Grains;

namespace RoutingCluster.Benchmarks.Reports;

/// <summary>
/// <c>calls</c>: what one session lifecycle asks of the silo, counted rather than timed: grain calls received (an
/// incoming-call filter on the silo, by interface and method), grain storage operations (a counting wrapper around
/// the memory storage, by storage), and pushes to the agent's desktop (grain → client-object calls, which the filter
/// does not see). Phase by phase (create → offered, accept, end, wrap-up done), each phase settled before the next,
/// over <c>sessions</c> lifecycles with one agent, after a warm-up. The statistics grains' flushes (once a second per
/// silo, whatever the traffic) are shown apart: per lifecycle they depend on the rate, not on the lifecycle. With
/// <c>follow</c>, every counted session is followed from before its creation, as a gateway's server-sent events follow
/// it (its follow call is counted in create → offered, its pushes as "follower").
/// </summary>
internal static class CallsReport
{
    public static async Task RunAsync(int sessions, bool follow = false)
    {
        await using var silo = await BenchSilo.StartAsync(count: true);
        const string Queue = "calls";
        await silo.QueueAsync(Queue);
        var agent = (await silo.AgentsAsync(Queue, "calls-agent-", 1))[0];
        for (var i = 0; i < 100; i++)
        {
            var id = $"warm-{i}";
            await silo.FinishAsync(await silo.CreateUntilOfferedAsync(Queue, id), id);
        }

        await silo.SettleAsync();
        string[] phases = ["create → offered", "accept", "end", "wrap-up done"];
        var calls = phases.ToDictionary(p => p, _ => new Dictionary<string, long>());
        var writes = phases.ToDictionary(p => p, _ => new Dictionary<string, long>());
        var pushes = phases.ToDictionary(p => p, _ => 0L);
        var follower = new CountingFollower();
        var followerReference = silo.Grains.CreateObjectReference<ISessionFollower>(follower);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < sessions; i++)
        {
            var id = $"counted-{i:D6}";
            await Phase(phases[0], async () =>
            {
                if (follow)
                {
                    await silo.Session(id).FollowAsync(followerReference);
                }

                await silo.CreateUntilOfferedAsync(Queue, id);
            });
            await Phase(phases[1], async () => await silo.Agent(agent).AcceptAsync(id));
            await Phase(phases[2], async () => await silo.Agent(agent).EndAsync(id));
            await Phase(phases[3], async () => await silo.Agent(agent).WrapUpDoneAsync(id));
        }

        var seconds = sw.Elapsed.TotalSeconds;
        GC.KeepAlive(follower);

        // Signing in: a new agent's profile (joins the queue) and its first state, one agent at a time, counted and timed.
        const int SignIns = 200;
        await silo.QueueAsync("calls-sign-in");
        var signInCalls = new Dictionary<string, long>();
        var signInWrites = new Dictionary<string, long>();
        var signInMs = new List<double>();
        for (var i = 0; i < SignIns; i++)
        {
            var c0 = silo.Calls!.Snapshot();
            var w0 = silo.Writes!.Snapshot();
            var a = silo.Agent($"sign-in-{i:D4}");
            var t = Stopwatch.StartNew();
            await a.PutProfileAsync(new RoutingCluster.Abstractions.Agents.AgentProfile { Name = "x", Queues = ["calls-sign-in"], Skills = new Dictionary<string, int> { ["cards"] = 3 } });
            await a.SetStateAsync(RoutingCluster.Routing.Model.AgentState.NotReady, "calls");
            signInMs.Add(t.Elapsed.TotalMilliseconds);
            await silo.SettleAsync();
            Accumulate(signInCalls, c0, silo.Calls.Snapshot());
            Accumulate(signInWrites, w0, silo.Writes.Snapshot());
        }

        signInMs.Sort();

        async Task Phase(string phase, Func<Task> action)
        {
            var c0 = silo.Calls!.Snapshot();
            var w0 = silo.Writes!.Snapshot();
            var p0 = silo.Watcher.Updates;
            await action();
            await silo.SettleAsync();
            Accumulate(calls[phase], c0, silo.Calls.Snapshot());
            Accumulate(writes[phase], w0, silo.Writes.Snapshot());
            pushes[phase] += silo.Watcher.Updates - p0;
        }

        Console.WriteLine($"# calls: {sessions:N0} lifecycles (one agent, one at a time, each phase settled), {seconds:F1} s, memory storage, "
            + (follow ? $"every session followed ({follower.Updates / (double)sessions:F2} events pushed per lifecycle)" : "no follower of the sessions"));
        Console.WriteLine();
        Console.WriteLine("Grain calls received by the silo per lifecycle, by kind: routing (session, queue and agent grains), desktop "
            + "(the agent grain's push to the desktop relay), storage (the memory storage's grains: with PostgreSQL each write is a "
            + "database round trip instead), streams (memory stream queue and pub-sub grains: none since sessions push to their followers), follower (a session's push to a "
            + "follower), timers (grain timer callbacks), other.");
        Console.WriteLine();
        string[] kinds = ["routing", "desktop", "storage", "streams", "follower", "timers", "other"];
        Console.WriteLine($"| phase | {string.Join(" | ", kinds)} | all | storage writes (reads) | routing calls |");
        Console.WriteLine($"|---|{string.Concat(kinds.Select(_ => "---:|"))}---:|---|---|");
        var totals = kinds.ToDictionary(k => k, _ => 0.0);
        double writesTotal = 0, readsTotal = 0, statsCalls = 0;
        foreach (var phase in phases)
        {
            var byKind = calls[phase].Where(kv => Kind(kv.Key) != "stats").GroupBy(kv => Kind(kv.Key)).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value) / (double)sessions);
            statsCalls += calls[phase].Where(kv => Kind(kv.Key) == "stats").Sum(kv => kv.Value);
            var w = writes[phase].Where(kv => kv.Key.EndsWith(".write", StringComparison.Ordinal)).Sum(kv => kv.Value) / (double)sessions;
            var r = writes[phase].Where(kv => kv.Key.EndsWith(".read", StringComparison.Ordinal)).Sum(kv => kv.Value) / (double)sessions;
            writesTotal += w;
            readsTotal += r;
            foreach (var k in kinds)
            {
                totals[k] += byKind.GetValueOrDefault(k);
            }

            var routing = calls[phase].Where(kv => Kind(kv.Key) == "routing").OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{Short(kv.Key)} {kv.Value / (double)sessions:0.##}");
            Console.WriteLine($"| {phase} | {string.Join(" | ", kinds.Select(k => byKind.GetValueOrDefault(k).ToString("F2")))} | {byKind.Values.Sum():F2} | {w:F2} ({r:F2}) | {string.Join(", ", routing)} |");
        }

        Console.WriteLine($"| **lifecycle** | {string.Join(" | ", kinds.Select(k => $"**{totals[k]:F2}**"))} | **{totals.Values.Sum():F2}** | **{writesTotal:F2}** ({readsTotal:F2}) | |");
        Console.WriteLine();
        Console.WriteLine("Storage operations per lifecycle, by storage: "
            + string.Join(", ", writes.Values.SelectMany(d => d).GroupBy(kv => kv.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Sum(kv => kv.Value) / (double)sessions:0.##}")));
        Console.WriteLine($"Statistics grain calls (collector flushes, about one a second per statistics grain, whatever the traffic): {statsCalls:N0} in {seconds:F1} s, "
            + $"{statsCalls / sessions:F3} per lifecycle at this rate ({sessions / seconds:F0} lifecycles/s with every phase settled).");
        Console.WriteLine($"Signing in a new agent (profile with one queue, then not-ready), {SignIns} one after another: p50 {signInMs[SignIns / 2]:F2} ms, "
            + $"p90 {signInMs[(int)(SignIns * 0.9)]:F2} ms; per agent {signInCalls.Where(kv => Kind(kv.Key) != "stats").Sum(kv => kv.Value) / (double)SignIns:F2} grain calls ("
            + string.Join(", ", signInCalls.Where(kv => Kind(kv.Key) != "stats").GroupBy(kv => Kind(kv.Key)).Select(g => $"{g.Key} {g.Sum(kv => kv.Value) / (double)SignIns:0.##}"))
            + "), storage: " + string.Join(", ", signInWrites.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value / (double)SignIns:0.##}")) + ".");
        Console.WriteLine();
        Console.WriteLine("Every call counted, per lifecycle:");
        foreach (var (key, value) in calls.Values.SelectMany(d => d).GroupBy(kv => kv.Key).Select(g => (g.Key, g.Sum(kv => kv.Value))).OrderByDescending(x => x.Item2))
        {
            Console.WriteLine($"  {Short(key)}: {value / (double)sessions:0.###}");
        }
    }

    private static string Kind(string key) =>
        key.Contains("Stats", StringComparison.Ordinal) ? "stats"
        : key.Contains(".Sessions.", StringComparison.Ordinal) || key.Contains(".Queues.", StringComparison.Ordinal) || key.Contains(".Agents.", StringComparison.Ordinal) ? "routing"
        : key.Contains("IAgentDesktopObserver", StringComparison.Ordinal) ? "desktop"
        : key.Contains("ISessionFollower", StringComparison.Ordinal) ? "follower"
        : key.Contains("Storage", StringComparison.Ordinal) ? "storage"
        : key.Contains("Stream", StringComparison.Ordinal) || key.Contains("PubSub", StringComparison.Ordinal) ? "streams"
        : key.Contains("Timer", StringComparison.Ordinal) ? "timers"
        : "other";

    private static void Accumulate(Dictionary<string, long> into, IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after)
    {
        foreach (var (key, value) in after)
        {
            var delta = value - before.GetValueOrDefault(key);
            if (delta != 0)
            {
                into[key] = into.GetValueOrDefault(key) + delta;
            }
        }
    }

    /// <summary>A gateway's follower of the sessions: counts what it is pushed.</summary>
    private sealed class CountingFollower : ISessionFollower
    {
        private long _updates;

        public long Updates => Interlocked.Read(ref _updates);

        public Task OnSessionUpdateAsync(SessionUpdate update)
        {
            Interlocked.Increment(ref _updates);
            return Task.CompletedTask;
        }
    }

    private static string Short(string key) => key.Replace("RoutingCluster.Abstractions.", string.Empty, StringComparison.Ordinal)
        .Replace("Orleans.", string.Empty, StringComparison.Ordinal);
}
