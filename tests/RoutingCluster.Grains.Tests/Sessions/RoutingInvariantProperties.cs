using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Ordering;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;

namespace RoutingCluster.Grains.Tests.Sessions;

/// <summary>
/// Random sequences of arrivals, agent state changes, accepts, rejects, timeouts, abandons and transfers,
/// run against the grains of a two-silo in-process cluster in virtual time. After every step the cluster is
/// left to settle and the routing invariants are checked from what the grains report. At the end of each sequence,
/// every session KPI of the statistics grains (per queue, channel, segment, agent and interval) must equal its
/// recomputation from the sessions' histories.
/// <para>
/// <see cref="Cases"/> sequences run, <see cref="Lanes"/> at a time, each on a cluster of its own (the shared one and
/// more of the same kind) with its own clock, so one sequence's time never moves under another's. A cluster serves
/// one sequence after another, each with ids of its own.
/// </para>
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RoutingInvariantProperties(RoutingClusterFixture shared, ITestOutputHelper output)
{
    private const int Cases = 500;

    /// <summary>Sequences that run at once. A sequence mostly waits for its cluster to settle, so a few clusters side
    /// by side keep two cores busy.</summary>
    private const int Lanes = 4;

    private enum OpKind { Arrive, Ready, NotReady, LogOut, Accept, Reject, End, WrapUpDone, Abandon, Transfer, Advance }

    private sealed record Op(OpKind Kind, int A, int B, int C)
    {
        public override string ToString() => $"{Kind}({A},{B},{C})";
    }

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 1], Gen.Int[0, 3], Gen.Int[0, 5], (q, ch, seg) => new Op(OpKind.Arrive, q, ch, seg))),
        (3, Gen.Int[0, 3].Select(a => new Op(OpKind.Ready, a, 0, 0))),
        (1, Gen.Int[0, 3].Select(a => new Op(OpKind.NotReady, a, 0, 0))),
        (1, Gen.Int[0, 3].Select(a => new Op(OpKind.LogOut, a, 0, 0))),
        (4, Gen.Int[0, 3].Select(a => new Op(OpKind.Accept, a, 0, 0))),
        (1, Gen.Int[0, 3].Select(a => new Op(OpKind.Reject, a, 0, 0))),
        (3, Gen.Int[0, 3].Select(a => new Op(OpKind.End, a, 0, 0))),
        (1, Gen.Int[0, 3].Select(a => new Op(OpKind.WrapUpDone, a, 0, 0))),
        (1, Gen.Int[0, 63].Select(s => new Op(OpKind.Abandon, s, 0, 0))),
        (1, Gen.Select(Gen.Int[0, 63], Gen.Int[0, 1], (s, q) => new Op(OpKind.Transfer, s, q, 0))),
        (4, Gen.Int[1, 25].Select(sec => new Op(OpKind.Advance, sec, 0, 0))));

    private static readonly QueuePolicy[] Policies =
    [
        QueuePolicy.Default with
        {
            OfferTimeoutSeconds = 10, WrapUpSeconds = 5, Relaxation = [new RelaxationStep(20, 1)], MaxWaitSeconds = 120,
        },
        QueuePolicy.Default with
        {
            OfferTimeoutSeconds = 12, WrapUpSeconds = 8, AgentSelection = AgentSelection.MostSkilled,
            HeadStarts = new Dictionary<Segment, HeadStart>
            {
                [Segment.Elderly] = HeadStart.Strict, [Segment.Disabled] = HeadStart.OfSeconds(45), [Segment.Vip] = HeadStart.OfSeconds(15),
            },
            MaxWaitSeconds = 600,
        },
    ];

    private static readonly (int[] Queues, Dictionary<string, int> Skills, Dictionary<Channel, int> Capacity)[] Agents =
    [
        ([0], new() { ["cards"] = 3 }, new() { [Channel.Voice] = 1, [Channel.Chat] = 2 }),
        ([0, 1], new() { ["cards"] = 1, ["loans"] = 3 }, new() { [Channel.Voice] = 1, [Channel.Chat] = 2 }),
        ([1], new() { ["loans"] = 2 }, new() { [Channel.Voice] = 1 }),
        ([0, 1], new() { ["cards"] = 2, ["loans"] = 1 }, new() { [Channel.Chat] = 3 }),
    ];

    [Fact]
    public async Task RandomTraffic_KeepsEveryRoutingInvariant()
    {
        var more = await Task.WhenAll(Enumerable.Range(1, Lanes - 1).Select(async _ =>
        {
            var cluster = new RoutingClusterFixture();
            await cluster.InitializeAsync();
            return cluster;
        }));
        var free = System.Threading.Channels.Channel.CreateUnbounded<RoutingClusterFixture>();
        foreach (var cluster in more.Prepend(shared))
        {
            free.Writer.TryWrite(cluster);
        }

        try
        {
            await GenOp.Array[5, 40].SampleAsync(
                async ops =>
                {
                    var cluster = await free.Reader.ReadAsync();
                    try
                    {
                        await RunAsync(cluster, ops);
                    }
                    finally
                    {
                        free.Writer.TryWrite(cluster);
                    }
                },
                writeLine: output.WriteLine, iter: Cases, threads: Lanes, print: ops => string.Join(" ", ops.Select(o => o.ToString())));
        }
        finally
        {
            foreach (var cluster in more)
            {
                await cluster.DisposeAsync();
            }
        }
    }

    private async Task RunAsync(RoutingClusterFixture fx, Op[] ops)
    {
        var s = new Scenario(fx);
        var queues = new string[Policies.Length];
        for (var q = 0; q < Policies.Length; q++)
        {
            queues[q] = await s.QueueAsync($"q{q}", Policies[q] with { OverflowQueueId = q == 0 ? s.Id("q1") : null });
        }

        var policies = queues.Select((id, q) => (id, p: Policies[q] with { OverflowQueueId = q == 0 ? queues[1] : null }))
            .ToDictionary(x => x.id, x => x.p);
        var agents = new string[Agents.Length];
        for (var a = 0; a < Agents.Length; a++)
        {
            agents[a] = await s.AgentAsync($"a{a}", [.. Agents[a].Queues.Select(q => queues[q])], Agents[a].Skills, Agents[a].Capacity, ready: false);
        }

        var sessions = new List<string>();
        var model = new Model(policies);
        var before = await model.Observe(s, agents, sessions);
        for (var step = 0; step < ops.Length; step++)
        {
            await Apply(fx, s, ops[step], queues, agents, sessions);
            await fx.SettleAsync();
            var after = await model.Observe(s, agents, sessions);
            var violations = model.Check(before, after);
            Assert.True(violations.Count == 0, $"after step {step} {ops[step]}:\n" + string.Join("\n", violations));
            before = after;
        }

        await AssertKpisEqualTheHistories(fx, queues, agents, sessions);
    }

    /// <summary>The live statistics, flushed from every silo, against the recomputation from the session histories.</summary>
    private static async Task AssertKpisEqualTheHistories(RoutingClusterFixture fx, string[] queues, string[] agents, List<string> sessions)
    {
        foreach (var silo in fx.Cluster.Silos)
        {
            await silo.ServiceProvider.GetRequiredService<KpiCollector>().FlushAsync();
        }

        var views = await Task.WhenAll(sessions.Select(id => fx.Session(id).GetAsync()));
        var histories = views.Select(v => new StoredSession(
            v!.Id,
            WireNames<SessionState>.Of(v.State),
            WireNames<Channel>.Of(v.Channel),
            [.. v.Segments.Select(WireNames<Segment>.Of)],
            [.. v.History.Select(e => new HistoryEntry(WireNames<SessionState>.Of(e.State), e.At, e.QueueId, e.AgentId, e.Note))]));
        var expected = KpiRecompute.From(histories, queues.ToDictionary(q => q, q => Policies[Array.IndexOf(queues, q)].ServiceLevelSeconds));

        var query = new StatsQuery(fx.Time.GetUtcNow().AddDays(-1), fx.Time.GetUtcNow().AddDays(1), StatsGrouping.Interval);
        var queueCells = (await Task.WhenAll(queues.Select(q => fx.Grains.GetGrain<IQueueStatsGrain>(q).QueryAsync(query)))).SelectMany(r => r.Cells);
        AssertSameCells("queue", expected.QueueCells, queueCells);
        foreach (var agent in agents)
        {
            var agentCells = await fx.Grains.GetGrain<IAgentStatsGrain>(AgentStatsShards.Of(agent)).QueryAsync(query with { Owner = agent });
            AssertSameCells(agent, expected.AgentCells.Where(c => c.Key.Owner == agent).ToDictionary(), agentCells.Cells);
        }
    }

    private static void AssertSameCells(string what, IReadOnlyDictionary<StatsCell, KpiCounters> expected, IEnumerable<StatsCellCounts> live)
    {
        // Agent time is not in the histories: compare the session counts (cells with agent time only drop out).
        var actual = live.Select(c => (c.Cell, Counts: c.Counters.SessionPart())).Where(c => !c.Counts.IsEmpty).ToDictionary(c => c.Cell, c => c.Counts);
        var cells = expected.Keys.Union(actual.Keys).ToList();
        var differences = cells.Where(c => !Equals(expected.GetValueOrDefault(c), actual.GetValueOrDefault(c)))
            .Select(c => $"{c}: recomputed [{expected.GetValueOrDefault(c)}] live [{actual.GetValueOrDefault(c)}]").ToList();
        Assert.True(differences.Count == 0, $"{what}: live statistics differ from the histories:\n" + string.Join("\n", differences));
    }

    private static async Task Apply(RoutingClusterFixture fx, Scenario s, Op op, string[] queues, string[] agents, List<string> sessions)
    {
        var agent = op.Kind is OpKind.Arrive or OpKind.Abandon or OpKind.Transfer or OpKind.Advance ? null : fx.Agent(agents[op.A]);
        switch (op.Kind)
        {
            case OpKind.Arrive:
                var id = s.Id($"s{sessions.Count}");
                sessions.Add(id);
                var channel = op.B == 3 ? Channel.Chat : Channel.Voice;
                var segments = op.C switch { 0 => [Segment.Elderly], 1 => [Segment.Disabled], 2 => [Segment.Vip], _ => Array.Empty<Segment>() };
                var skill = op.A == 0 ? "cards" : "loans";
                var skills = new Dictionary<string, int> { [skill] = 1 + (op.B % 3) };
                var result = await fx.Session(id).CreateAsync(new NewSession
                {
                    QueueId = queues[op.A], Channel = channel, Customer = new Customer("c", null, segments), Skills = skills,
                });
                Assert.Equal(CreateStatus.Created, result.Status);
                break;
            case OpKind.Ready:
                await agent!.SetStateAsync(AgentState.Ready, null);
                break;
            case OpKind.NotReady:
                await agent!.SetStateAsync(AgentState.NotReady, "break");
                break;
            case OpKind.LogOut:
                await agent!.SetStateAsync(AgentState.LoggedOut, null);
                break;
            case OpKind.Accept:
                if ((await agent!.GetAsync())!.Offers.FirstOrDefault() is { } offer)
                {
                    await agent.AcceptAsync(offer.SessionId);
                }

                break;
            case OpKind.Reject:
                if ((await agent!.GetAsync())!.Offers.FirstOrDefault() is { } rejected)
                {
                    await agent.RejectAsync(rejected.SessionId);
                }

                break;
            case OpKind.End:
                if ((await agent!.GetAsync())!.Sessions.FirstOrDefault(x => x.State == HeldState.Connected) is { } connected)
                {
                    await agent.EndAsync(connected.SessionId);
                }

                break;
            case OpKind.WrapUpDone:
                if ((await agent!.GetAsync())!.Sessions.FirstOrDefault(x => x.State == HeldState.WrapUp) is { } wrap)
                {
                    await agent.WrapUpDoneAsync(wrap.SessionId);
                }

                break;
            case OpKind.Abandon when sessions.Count > 0:
                await fx.Session(sessions[op.A % sessions.Count]).AbandonAsync();
                break;
            case OpKind.Transfer when sessions.Count > 0:
                await fx.Session(sessions[op.A % sessions.Count]).TransferAsync(queues[op.B], null, 0);
                break;
            case OpKind.Advance:
                await fx.AdvanceAsync(TimeSpan.FromSeconds(op.A));
                break;
        }
    }

    private sealed record Snapshot(DateTimeOffset Now, Dictionary<string, AgentView> Agents, Dictionary<string, SessionView> Sessions);

    /// <summary>What the test remembers across steps, and the invariants it checks.</summary>
    private sealed class Model(Dictionary<string, QueuePolicy> policies)
    {
        private readonly Dictionary<string, SessionState> _ended = [];

        public async Task<Snapshot> Observe(Scenario s, string[] agents, List<string> sessions)
        {
            var agentViews = new Dictionary<string, AgentView>();
            foreach (var a in agents)
            {
                agentViews[a] = await s.GetAgent(a);
            }

            var sessionViews = new Dictionary<string, SessionView>();
            foreach (var id in sessions)
            {
                sessionViews[id] = await s.GetSession(id);
            }

            return new Snapshot(s.Fx.Time.GetUtcNow(), agentViews, sessionViews);
        }

        public List<string> Check(Snapshot before, Snapshot now)
        {
            var v = new List<string>();
            var holders = new Dictionary<string, List<string>>();
            foreach (var agent in now.Agents.Values)
            {
                // Never over capacity; voice and video exclusive.
                var all = agent.Offers.Select(o => o.Channel).Concat(agent.Sessions.Select(x => x.Channel)).ToList();
                foreach (var g in all.GroupBy(c => c))
                {
                    if (g.Count() > agent.Capacity.GetValueOrDefault(g.Key))
                    {
                        v.Add($"{agent.Id} over capacity on {g.Key}: {g.Count()}");
                    }
                }

                if (all.Any(ChannelRules.IsExclusive) && all.Count > 1)
                {
                    v.Add($"{agent.Id} holds an exclusive session with {all.Count - 1} other(s)");
                }

                foreach (var id in agent.Offers.Select(o => o.SessionId)
                    .Concat(agent.Sessions.Where(x => x.State == HeldState.Connected).Select(x => x.SessionId)))
                {
                    holders.TryAdd(id, []);
                    holders[id].Add(agent.Id);
                }
            }

            // Never offered (or connected) to two agents; and the session agrees with its agent.
            foreach (var (id, list) in holders)
            {
                if (list.Count > 1)
                {
                    v.Add($"{id} is offered/connected to {string.Join(", ", list)}");
                }
            }

            foreach (var session in now.Sessions.Values)
            {
                if (session.State is SessionState.Offered or SessionState.Connected
                    && (!holders.TryGetValue(session.Id, out var h) || !h.SequenceEqual([session.AgentId!])))
                {
                    v.Add($"{session.Id} is {session.State} to {session.AgentId} but held by [{string.Join(",", holders.GetValueOrDefault(session.Id) ?? [])}]");
                }

                // Every session ends exactly once.
                var terminals = session.History.Count(e => e.State.IsTerminal());
                if (terminals > 1)
                {
                    v.Add($"{session.Id} ended {terminals} times");
                }

                if (_ended.TryGetValue(session.Id, out var ended) && ended != session.State)
                {
                    v.Add($"{session.Id} ended as {ended} and is now {session.State}");
                }

                if (session.State.IsTerminal())
                {
                    _ended.TryAdd(session.Id, session.State);
                }
            }

            CheckOrder(before, now, v);
            CheckNoIdleEligibleAgent(now, v);
            return v;
        }

        /// <summary>No waiting session is overtaken: a session offered in this step had no session ahead of it
        /// (by score) that waited through the whole step in the same queue and channel and that the same agent
        /// could take at the moment of the decision.</summary>
        private void CheckOrder(Snapshot before, Snapshot now, List<string> v)
        {
            foreach (var offered in now.Sessions.Values.Where(x => x.State == SessionState.Offered && x.Explanation is not null))
            {
                if (before.Sessions.TryGetValue(offered.Id, out var was) && was.State == SessionState.Offered && was.AgentId == offered.AgentId)
                {
                    continue; // not new in this step
                }

                var decidedAt = offered.Explanation!.DecidedAt;
                var agent = now.Agents[offered.AgentId!];
                var policy = policies[offered.QueueId];
                var offeredKey = KeyOf(offered, policy, offered.Explanation.WaitedSeconds, decidedAt);
                foreach (var waiting in now.Sessions.Values)
                {
                    if (waiting.State != SessionState.Queued || waiting.QueueId != offered.QueueId || waiting.Channel != offered.Channel
                        || waiting.RejectedBy.Contains(agent.Id) || waiting.PreferredAgentId is not null
                        || !before.Sessions.TryGetValue(waiting.Id, out var earlier) || earlier.State != SessionState.Queued
                        || earlier.QueueId != waiting.QueueId || waiting.QueuedAt > decidedAt)
                    {
                        continue;
                    }

                    var step = SkillRelaxation.StepAt(policy.Relaxation, (decidedAt - waiting.QueuedAt!.Value).TotalSeconds);
                    var skilled = waiting.Skills.All(kv => SkillRelaxation.MinimumLevel(kv.Value, policy.Relaxation, step) <= agent.Skills.GetValueOrDefault(kv.Key));
                    var waitingKey = KeyOf(waiting, policy, (decidedAt - waiting.QueuedAt!.Value).TotalSeconds, decidedAt);
                    var ahead = waitingKey.Strict != offeredKey.Strict
                        ? waitingKey.Strict
                        : waitingKey.EffectiveArrivalTicks < offeredKey.EffectiveArrivalTicks;
                    if (skilled && ahead)
                    {
                        v.Add($"{offered.Id} (key {offeredKey}) offered to {agent.Id} at {decidedAt:T} ahead of waiting {waiting.Id} (key {waitingKey})");
                    }
                }
            }
        }

        /// <summary>No eligible free agent is left idle while a matching session waits.</summary>
        private void CheckNoIdleEligibleAgent(Snapshot now, List<string> v)
        {
            foreach (var waiting in now.Sessions.Values.Where(x => x.State == SessionState.Queued))
            {
                var policy = policies[waiting.QueueId];
                var demand = new SessionDemand
                {
                    SessionId = waiting.Id, QueueId = waiting.QueueId, Channel = waiting.Channel, Arrival = waiting.QueuedAt!.Value,
                    RequiredSkills = waiting.Skills,
                };
                foreach (var agent in now.Agents.Values)
                {
                    if (waiting.RejectedBy.Contains(agent.Id) || (waiting.PreferredAgentId is not null && waiting.PreferredAgentId != agent.Id))
                    {
                        continue;
                    }

                    var supply = new AgentSupply
                    {
                        AgentId = agent.Id, State = agent.State, Skills = agent.Skills, Queues = agent.Queues, Capacity = agent.Capacity,
                        Active = agent.Offers.Select(o => o.Channel).Concat(agent.Sessions.Select(x => x.Channel))
                            .GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count()),
                    };
                    if (Eligibility.IsEligible(supply, demand, policy, now.Now))
                    {
                        v.Add($"{agent.Id} is free and eligible but {waiting.Id} waits in {waiting.QueueId}");
                    }
                }
            }
        }

        private static WaitKey KeyOf(SessionView session, QueuePolicy policy, double waitedSeconds, DateTimeOffset at)
        {
            var headStart = PriorityPolicy.HeadStartFor(session.Segments, policy.HeadStarts);
            return WaitKey.For(at - TimeSpan.FromSeconds(waitedSeconds), headStart, 0);
        }
    }
}
