using System.Diagnostics;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Benchmarks.Grains;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Benchmarks.Reports.Measure;

namespace RoutingCluster.Benchmarks.Reports;

/// <summary>
/// <c>scale</c>: the "100,000 agents logged in, 100,000 sessions waiting in one silo" target. (1) The policy objects
/// a queue grain holds (<see cref="WaitingList"/>, <see cref="AgentRoster"/>) at 1,000, 10,000 and 100,000: the cost of
/// each queue operation (median of 7 timed repetitions) and the managed heap per session and per agent. (2) The grains in
/// one silo (memory storage): agents signed in and sessions waiting in one queue, heap per agent and per session
/// (everything the silo holds for them: activations, grain state, the storage's copy, the queue's entries), the
/// sign-in and create rates as the counts grow, and how long a freed agent takes to get the best of those waiting.
/// </summary>
internal static class ScaleReport
{
    private static readonly DateTimeOffset Now = new(2025, 3, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly Channel[] Channels = [Channel.Voice, Channel.Chat, Channel.Email, Channel.Wechat];

    private static readonly HeadStart[] HeadStarts =
        [HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.OfSeconds(60), HeadStart.OfSeconds(30)];

    private static readonly QueuePolicy Policy = QueuePolicy.Default with { Relaxation = [new RelaxationStep(30, 1), new RelaxationStep(60, 2)] };
    private static readonly QueuePolicy MostSkilled = Policy with { AgentSelection = AgentSelection.MostSkilled };

    /// <summary>No relaxation: an agent without the skill stays ineligible however long the sessions waited.</summary>
    private static readonly QueuePolicy NoRelaxation = QueuePolicy.Default;
    private static readonly Func<SessionDemand, bool> NoOneElse = _ => false;
    private static readonly IReadOnlySet<string> NoneBusy = new HashSet<string>();

    public static async Task RunAsync(int[] sizes, int grainAgents, int grainSessions, int inFlight, int agentQueues)
    {
        Console.WriteLine($"# scale: {Environment.ProcessorCount} cores, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        // A first pass at the smallest size, not reported, so every operation runs as optimized (tier-1) code in the
        // measured pass whatever size comes first.
        if (sizes.Length > 0)
        {
            PolicyScale([sizes[0]], print: false);
            PolicyScale(sizes, print: true);
        }
        if (grainAgents > 0 || grainSessions > 0)
        {
            await GrainScale(grainAgents, grainSessions, inFlight, agentQueues);
        }
    }

    private static void PolicyScale(int[] sizes, bool print)
    {
        var rows = new Dictionary<string, List<string>>();
        var raw = new Dictionary<string, List<double>>();
        void Add(string row, double ns, string? text = null)
        {
            (rows.TryGetValue(row, out var r) ? r : rows[row] = []).Add(text ?? Ns(ns));
            (raw.TryGetValue(row, out var v) ? v : raw[row] = []).Add(ns);
        }

        foreach (var n in sizes)
        {
            var random = new Random(20250303 + n);

            // Waiting list: memory, then operations.
            var before = Heap();
            var demands = new SessionDemand[n];
            var waiting = new WaitingList();
            for (var i = 0; i < n; i++)
            {
                demands[i] = Demand(random, i);
                waiting.Add(demands[i]);
            }

            var perSession = (Heap() - before) / (double)n;
            var order = Enumerable.Range(0, 1 << 16).Select(_ => random.Next(n)).ToArray();
            var ready = new AgentSupply
            {
                AgentId = "arriving",
                State = AgentState.Ready,
                Queues = ["cards"],
                Skills = new Dictionary<string, int> { ["cards"] = 4 },
                IdleSince = Now,
                Version = 1,
            };
            var mismatched = ready with { AgentId = "mismatched", Skills = new Dictionary<string, int> { ["loans"] = 5 } };

            Add("WaitingList.BestFor: a freed agent takes the best session", NanosPerOp(_ => waiting.BestFor(ready, Policy, Now, NoOneElse)));
            Add("WaitingList.BestFor: a freed agent eligible for none", NanosPerOp(_ => waiting.BestFor(mismatched, NoRelaxation, Now, NoOneElse), repeats: 5));
            Add("WaitingList.NextEligibilityChange (alarm re-armed)", NanosPerOp(_ => waiting.NextEligibilityChange(Policy, Now)));
            Add("WaitingList: a waiting session leaves and joins again (remove + add, random session)", NanosPerOp(i =>
            {
                var d = demands[order[i & 0xFFFF]];
                waiting.Remove(d.SessionId);
                waiting.Add(d);
            }));
            Add("heap per waiting session (WaitingList + its SessionDemand)", perSession, Bytes(perSession));
            GC.KeepAlive(waiting);
            waiting = null!;
            demands = null!;

            // Agent roster: memory, then operations.
            before = Heap();
            var agents = new AgentSupply[n];
            var roster = new AgentRoster();
            for (var i = 0; i < n; i++)
            {
                agents[i] = new AgentSupply
                {
                    AgentId = $"a-{i:D6}",
                    State = AgentState.Ready,
                    Queues = ["cards", "loans"],
                    Skills = new Dictionary<string, int> { ["cards"] = random.Next(2, 6), ["mandarin"] = random.Next(1, 6) },
                    IdleSince = Now - TimeSpan.FromMilliseconds(random.Next(0, 3_600_000)),
                    Version = 1,
                };
                roster.Update(agents[i]);
            }

            var perAgent = (Heap() - before) / (double)n;
            var demand = new SessionDemand
            {
                SessionId = "incoming",
                QueueId = "cards",
                Channel = Channel.Voice,
                Arrival = Now,
                RequiredSkills = new Dictionary<string, int> { ["cards"] = 2, ["mandarin"] = 1 },
                Sequence = 1,
            };
            var unskilled = demand with { SessionId = "unskilled", RequiredSkills = new Dictionary<string, int> { ["loans"] = 1 } };
            var version = 1L;
            Add("AgentRoster.Update: an agent publishes a new snapshot (random agent)", NanosPerOp(i =>
            {
                var a = agents[order[i & 0xFFFF]];
                agents[order[i & 0xFFFF]] = a = a with { Version = ++version, IdleSince = a.IdleSince.AddTicks(1) };
                roster.Update(a);
            }));
            Add("AgentRoster.PickFor, longest idle: a new session, every free agent eligible", NanosPerOp(_ => roster.PickFor(demand, Policy, Now, NoneBusy)));
            Add("AgentRoster.PickFor, most skilled: a new session, every free agent eligible", NanosPerOp(_ => roster.PickFor(demand, MostSkilled, Now, NoneBusy), repeats: 5));
            Add("AgentRoster.PickFor, longest idle: a new session, no free agent eligible (no one has the skill)",
                NanosPerOp(_ => roster.PickFor(unskilled, NoRelaxation, Now, NoneBusy), repeats: 5));
            Add("heap per agent (AgentRoster + its AgentSupply)", perAgent, Bytes(perAgent));
            GC.KeepAlive(roster);
            roster = null!;
            agents = null!;

            // The worst case for grouping agents by profile: every agent has skills no other has (a level of its own
            // on a skill of its own), so there are as many profiles as agents.
            var distinct = new AgentRoster();
            for (var i = 0; i < n; i++)
            {
                distinct.Update(new AgentSupply
                {
                    AgentId = $"a-{i:D6}",
                    State = AgentState.Ready,
                    Queues = ["cards", "loans"],
                    Skills = new Dictionary<string, int> { ["cards"] = random.Next(2, 6), ["mandarin"] = random.Next(1, 6), [$"own-{i}"] = 1 },
                    IdleSince = Now - TimeSpan.FromMilliseconds(random.Next(0, 3_600_000)),
                    Version = 1,
                });
            }

            Add("AgentRoster.PickFor, most skilled: every free agent eligible, every agent a profile of its own",
                NanosPerOp(_ => distinct.PickFor(demand, MostSkilled, Now, NoneBusy), repeats: 5));
            GC.KeepAlive(distinct);
        }

        if (!print)
        {
            return;
        }

        Console.WriteLine();
        Console.WriteLine("## Policy objects (one queue), median of timed repetitions");
        Console.WriteLine();
        Console.WriteLine($"| operation | {string.Join(" | ", sizes.Select(s => $"{s:N0}"))} | {sizes[^1]:N0} ÷ {sizes[0]:N0} |");
        Console.WriteLine($"|---|{string.Concat(sizes.Select(_ => "---:|"))}---:|");
        foreach (var (row, values) in rows)
        {
            Console.WriteLine($"| {row} | {string.Join(" | ", values)} | {raw[row][^1] / raw[row][0]:F2}× |");
        }

        Console.WriteLine();
        Console.WriteLine($"log2 growth for reference: log2({sizes[^1]:N0}) ÷ log2({sizes[0]:N0}) = {Math.Log2(sizes[^1]) / Math.Log2(sizes[0]):F2}×; linear = {sizes[^1] / (double)sizes[0]:F0}×");
    }

    private static SessionDemand Demand(Random random, int i)
    {
        var skills = new Dictionary<string, int> { ["cards"] = random.Next(1, 4) };
        if (random.Next(5) == 0)
        {
            skills["mandarin"] = 3;
        }

        return new SessionDemand
        {
            SessionId = $"s-{i:D7}",
            QueueId = "cards",
            Channel = Channels[random.Next(Channels.Length)],
            Arrival = Now - TimeSpan.FromMilliseconds(random.Next(0, 900_000)),
            HeadStart = HeadStarts[random.Next(HeadStarts.Length)],
            RequiredSkills = skills,
            Sequence = i,
        };
    }

    private static async Task GrainScale(int agentCount, int sessionCount, int inFlight, int agentQueues)
    {
        Console.WriteLine();
        Console.WriteLine($"## Grains in one silo: {agentCount:N0} agents signed in (not ready) over {agentQueues:N0} queue(s), {sessionCount:N0} sessions waiting in one of them");
        Console.WriteLine();
        // Storage writes counted (not calls: no call filter), for the queues' member-list writes.
        await using var silo = await BenchSilo.StartAsync(countStorage: true);
        const string Queue = "scale";

        // Warm-up in another queue: JIT, statistics grains, storage grains.
        await silo.QueueAsync("warm");
        await silo.AgentsAsync("warm", "warm-agent-", 4);
        for (var i = 0; i < 200; i++)
        {
            var id = $"warm-{i}";
            await silo.FinishAsync(await silo.CreateUntilOfferedAsync("warm", id), id);
        }

        string QueueOf(int agent) => agentQueues == 1 ? Queue : $"{Queue}-{agent % agentQueues}";
        foreach (var q in Enumerable.Range(0, agentQueues).Select(QueueOf).Distinct())
        {
            await silo.QueueAsync(q);
        }

        await silo.SettleAsync();
        var heap0 = Heap();

        const int Batch = 1_000;
        var signIn = new List<double>();
        var signInCpu = new List<double>();
        var ids = Enumerable.Range(0, agentCount).Select(i => $"agent-{i:D6}").ToArray();
        var queueWrites = silo.Writes!.StateWrites("routing/queue");
        var allSignIns = Stopwatch.StartNew();
        foreach (var chunk in Enumerable.Range(0, agentCount).Chunk(Batch))
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            await BenchSilo.ForEachAsync(chunk, inFlight, async i =>
            {
                var id = ids[i];
                var agent = silo.Agent(id);
                await agent.PutProfileAsync(new AgentProfile { Name = id, Queues = [QueueOf(i)], Skills = new Dictionary<string, int> { ["cards"] = 3 } });
                await agent.SetStateAsync(AgentState.NotReady, "scale");
            });
            signIn.Add(chunk.Length / sw.Elapsed.TotalSeconds);
            signInCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / chunk.Length);
        }

        // Until the work beside the turns is done too (a queue's membership writes, the agents' notifications).
        await silo.SettleAsync();
        var signInSettled = agentCount / allSignIns.Elapsed.TotalSeconds;
        queueWrites = silo.Writes.StateWrites("routing/queue") - queueWrites;
        var heapAgents = Heap();
        var perAgent = agentCount > 0 ? (heapAgents - heap0) / (double)agentCount : 0;

        var creates = new List<double>();
        var sessionQueue = QueueOf(0);
        var sessionIds = Enumerable.Range(0, sessionCount).Select(i => $"waiting-{i:D7}").ToArray();
        foreach (var chunk in sessionIds.Chunk(Batch))
        {
            var sw = Stopwatch.StartNew();
            await BenchSilo.ForEachAsync(chunk, inFlight, async id =>
            {
                var result = await silo.Session(id).CreateAsync(BenchSilo.NewSession(sessionQueue, id));
                if (result.Status != RoutingCluster.Abstractions.Sessions.CreateStatus.Created)
                {
                    throw new InvalidOperationException($"create {id}: {result.Status}");
                }
            });
            creates.Add(chunk.Length / sw.Elapsed.TotalSeconds);
        }

        await silo.SettleAsync();
        var heapSessions = Heap();
        var perSession = sessionCount > 0 ? (heapSessions - heapAgents) / (double)sessionCount : 0;
        var live = await silo.Queue(sessionQueue).GetLiveAsync();

        // Session surplus at that queue length: an agent becomes ready and takes the best waiting session.
        var takes = new List<double>();
        foreach (var id in ids.Where((_, i) => QueueOf(i) == sessionQueue).Take(200))
        {
            var agent = silo.Agent(id);
            await agent.DesktopConnectedAsync("scale-" + id, silo.WatcherReference);
            var offered = silo.Watcher.ExpectOfferTo(id);
            var sw = Stopwatch.StartNew();
            await agent.SetStateAsync(AgentState.Ready, null);
            await offered;
            takes.Add(sw.Elapsed.TotalMilliseconds);
        }

        takes.Sort();
        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| heap per agent signed in (grain, state, storage copy, queue roster and membership) | {Bytes(perAgent)} |");
        Console.WriteLine($"| heap per waiting session (grain, state, storage copy, queue entry) | {Bytes(perSession)} |");
        Console.WriteLine($"| heap in all: {agentCount:N0} agents + {sessionCount:N0} sessions | {Bytes(heapSessions - heap0)} |");
        Console.WriteLine($"| the sessions' queue's own count: waiting / agents known | {live.Waiting:N0} / {live.AgentsKnown:N0} |");
        if (signIn.Count > 0)
        {
            Console.WriteLine($"| sign-in rate (profile + not-ready), first / last {Batch:N0} agents, {inFlight} in flight | {signIn[0]:N0}/s / {signIn[^1]:N0}/s |");
            Console.WriteLine($"| sign-in rate of all {agentCount:N0} agents, until the silo settled (background work done) | {signInSettled:N0}/s |");
            Console.WriteLine($"| process CPU per sign-in, first / last {Batch:N0} agents | {signInCpu[0]:F2} / {signInCpu[^1]:F2} ms |");
            Console.WriteLine($"| queue record writes (member lists) during the {agentCount:N0} sign-ins, until settled | {queueWrites:N0} |");
        }

        if (creates.Count > 0)
        {
            Console.WriteLine($"| create rate (session queued), first / last {Batch:N0} sessions, {inFlight} in flight | {creates[0]:N0}/s / {creates[^1]:N0}/s |");
        }

        if (takes.Count > 0)
        {
            Console.WriteLine($"| freed agent takes the best of ~{sessionCount:N0} waiting (set ready → offer at its desktop), {takes.Count} agents one after another: p50 / p90 / max | {takes[takes.Count / 2]:F2} / {takes[(int)(takes.Count * 0.9)]:F2} / {takes[^1]:F2} ms |");
        }

        Console.WriteLine($"| managed heap of the process at the end / working set | {Bytes(heapSessions)} / {Bytes(Environment.WorkingSet)} |");
    }
}
