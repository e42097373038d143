using CsCheck;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

/// <summary>
/// <see cref="AgentRoster.PickFor"/> and <see cref="AgentRoster.AnyoneElseEligible"/> against their definition, over
/// generated rosters: a plain walk over every free agent in longest-idle order with <see cref="Eligibility.IsEligible(AgentSupply, SessionDemand, QueuePolicy, DateTimeOffset, out int)"/>
/// and <see cref="AgentSelector.Better"/>, whatever groups the roster keeps. Rosters with few distinct profiles (many
/// agents in a group) and with many (a profile per agent), agents that publish newer (and stale) snapshots or leave.
/// </summary>
public sealed class AgentRosterPropertyTests
{
    private static readonly Channel[] SessionChannels = [Channel.Voice, Channel.Chat, Channel.Email];

    private static readonly IReadOnlyList<string>[] QueueLists = [[Queue], [Queue, "loans"], ["loans"], ["loans", Queue]];

    private static readonly IReadOnlyDictionary<Channel, int>[] Capacities =
    [
        ChannelRules.DefaultCapacity, Channels((Channel.Chat, 2), (Channel.Email, 1)), Channels((Channel.Voice, 1), (Channel.Chat, 1)),
    ];

    private static readonly IReadOnlyDictionary<Channel, int>[] Actives =
    [
        Channels(), Channels((Channel.Chat, 1)), Channels((Channel.Chat, 2)), Channels((Channel.Voice, 1)), Channels((Channel.Email, 1)),
        Channels((Channel.Chat, 0)),
    ];

    private static readonly (string, int)[][] FewSkillSets = [[("cards", 3)], [("cards", 2), ("mandarin", 3)], [("mandarin", 4)]];

    private static readonly Dictionary<string, int>[] RequiredSkills =
    [
        [], Skills(("cards", 1)), Skills(("cards", 3)), Skills(("cards", 3), ("mandarin", 2)), Skills(("mandarin", 4)), Skills(("loans", 1)),
    ];

    private static readonly RelaxationStep[][] Relaxations =
    [
        [], [new RelaxationStep(30, 1)], [new RelaxationStep(30, 1), new RelaxationStep(60, 2)],
    ];

    private static readonly DateTimeOffset Now = At(1_000);

    /// <summary>One agent's snapshot: queues, cards and mandarin levels, capacities, sessions held, state (0: not ready),
    /// how long idle (tens of seconds: ties are common), and whether its skills use the default string comparer.</summary>
    private static readonly Gen<(int Queues, int Cards, int Mandarin, int Capacity, int Active, int State, int Idle, bool DefaultComparer)> OneAgent =
        Gen.Select(Gen.Int[0, QueueLists.Length - 1], Gen.Int[0, 4], Gen.Int[0, 4], Gen.Int[0, Capacities.Length - 1],
            Gen.Int[0, Actives.Length - 1], Gen.Int[0, 5], Gen.Int[0, 20], Gen.Bool);

    /// <summary>A session: channel, skills, how long it has waited, strategy, relaxation, preferred agent (index, negative:
    /// none) and its window (0: none, 1: ended, 2: open), and the agents that rejected it and that have an offer in
    /// flight (indices).</summary>
    private static readonly Gen<(int Channel, int Skills, int Waited, bool MostSkilled, int Relaxation, int Preferred, int Window, int[] Rejected, int[] Busy)> OneSession =
        Gen.Select(Gen.Int[0, SessionChannels.Length - 1], Gen.Int[0, RequiredSkills.Length - 1], Gen.Int[0, 120], Gen.Bool,
                Gen.Int[0, Relaxations.Length - 1], Gen.Int[-6, 500], Gen.Int[0, 2])
            .Select(Gen.Int[0, 500].Array[0, 4], Gen.Int[0, 500].Array[0, 4], (s, rejected, busy) =>
                (s.Item1, s.Item2, s.Item3, s.Item4, s.Item5, s.Item6, s.Item7, rejected, busy));

    /// <summary>Few agents, or more than <see cref="AgentRoster.CandidateCountLimit"/>; profiles: 0 few (a handful of
    /// skill sets), 1 random levels, 2 a skill of each agent's own (as many profiles as agents).</summary>
    private static readonly Gen<int> AgentCount = Gen.Frequency((4, Gen.Int[0, 40]), (1, Gen.Int[250, 400]));

    [Fact]
    public void PickFor_And_AnyoneElseEligible_AreThoseOfAWalkOverEveryFreeAgent()
    {
        Gen.Select(AgentCount, Gen.Int[0, 2], OneAgent.Array[40], Gen.Select(Gen.Int[0, 500], Gen.Int[-1, 2], OneAgent).Array[0, 60],
                Gen.Int[0, 500].Array[0, 10], OneSession.Array[1, 8])
            .Sample((count, profiles, agentGens, updates, removals, sessions) =>
            {
                var roster = new AgentRoster();
                var model = new Dictionary<string, AgentSupply>(StringComparer.Ordinal);
                AgentSupply Make(int index, (int Queues, int Cards, int Mandarin, int Capacity, int Active, int State, int Idle, bool DefaultComparer) g, long version)
                {
                    var skills = profiles == 0 ? FewSkillSets[g.Cards % FewSkillSets.Length] : [("cards", g.Cards), ("mandarin", g.Mandarin)];
                    var dictionary = g.DefaultComparer ? skills.ToDictionary(s => s.Item1, s => s.Item2) : Skills(skills);
                    if (profiles == 2)
                    {
                        dictionary[$"own-{index}"] = 1;
                    }

                    return Agent(
                        $"a{index}",
                        idleSince: At(-10 * g.Idle),
                        state: g.State == 0 ? AgentState.NotReady : AgentState.Ready,
                        skills: dictionary,
                        queues: profiles == 0 ? QueueLists[g.Queues % 2] : QueueLists[g.Queues],
                        capacity: Capacities[g.Capacity],
                        active: Actives[g.Active],
                        version: version);
                }

                void Apply(AgentSupply agent)
                {
                    var expected = !model.TryGetValue(agent.AgentId, out var known) || known.Version < agent.Version;
                    if (expected)
                    {
                        model[agent.AgentId] = agent;
                    }

                    Assert.Equal(expected, roster.Update(agent));
                }

                for (var i = 0; i < count; i++)
                {
                    Apply(Make(i, agentGens[i % agentGens.Length], 1));
                }

                // New snapshots (a version of -1 or 0 relative to the known one is stale), and agents leaving.
                foreach (var (index, delta, g) in updates.Where(_ => count > 0))
                {
                    var id = index % count;
                    var version = (model.TryGetValue($"a{id}", out var known) ? known.Version : 0) + delta;
                    Apply(Make(id, g, version));
                }

                foreach (var index in removals.Where(_ => count > 0))
                {
                    model.Remove($"a{index % count}");
                    roster.Remove($"a{index % count}");
                }

                var free = model.Values.Where(a => a.HasFreeCapacity)
                    .OrderBy(a => a.IdleSince).ThenBy(a => a.AgentId, StringComparer.Ordinal).ToList();
                Assert.Equal(model.Count, roster.Count);
                Assert.Equal(free.Count, roster.FreeCount);
                Assert.Equal(free.Select(a => a.AgentId), roster.Free.Select(a => a.AgentId));
                Assert.Equal(model.Keys.Order(StringComparer.Ordinal), roster.All.Select(a => a.AgentId).Order(StringComparer.Ordinal));

                foreach (var s in sessions)
                {
                    string? Pick(int index) => count == 0 ? null : $"a{index % count}";
                    var arrival = Now - TimeSpan.FromSeconds(s.Waited);
                    var session = Session(
                        "s",
                        arrival,
                        channel: SessionChannels[s.Channel],
                        skills: RequiredSkills[s.Skills],
                        preferredAgent: s.Preferred < 0 ? null : Pick(s.Preferred),
                        preferredUntil: s.Window switch { 0 => arrival, 1 => Now - TimeSpan.FromSeconds(1), _ => Now + TimeSpan.FromSeconds(30) },
                        rejectedBy: s.Rejected.Select(Pick).OfType<string>());
                    var busy = s.Busy.Select(Pick).OfType<string>().ToHashSet(StringComparer.Ordinal);
                    var policy = QueuePolicy.Default with
                    {
                        AgentSelection = s.MostSkilled ? AgentSelection.MostSkilled : AgentSelection.LongestIdle,
                        Relaxation = Relaxations[s.Relaxation],
                    };

                    var expected = Walk(model, free, session, policy, Now, busy);
                    var actual = roster.PickFor(session, policy, Now, busy);
                    Assert.Equal(expected?.Agent.AgentId, actual?.Agent.AgentId);
                    Assert.Equal(expected?.RelaxationStep, actual?.RelaxationStep);
                    Assert.Equal(expected?.CandidateCount, actual?.CandidateCount);

                    foreach (var asking in new[] { Pick(s.Waited), Pick(s.Preferred), "nobody" }.OfType<string>())
                    {
                        var someoneElse = free.Any(a => a.AgentId != asking && !session.RejectedBy.Contains(a.AgentId)
                            && Eligibility.IsEligible(a, session, policy, Now));
                        Assert.Equal(someoneElse, roster.AnyoneElseEligible(session, asking, policy, Now));
                    }
                }
            }, iter: 1_500);
    }

    /// <summary>The definition: the preferred agent if eligible; nobody else within its window; otherwise the best by
    /// <see cref="AgentSelector.Better"/> of every eligible free agent that has no offer in flight and did not reject the
    /// session (counted, up to the limit under longest idle), or else the best of those that rejected it.</summary>
    private static AgentChoice? Walk(Dictionary<string, AgentSupply> agents, List<AgentSupply> free, SessionDemand session, QueuePolicy policy,
        DateTimeOffset now, HashSet<string> busy)
    {
        if (session.PreferredAgentId is { } preferredId
            && agents.TryGetValue(preferredId, out var preferred)
            && !busy.Contains(preferredId)
            && !session.RejectedBy.Contains(preferredId)
            && Eligibility.IsEligible(preferred, session, policy, now, out var preferredStep))
        {
            return new AgentChoice(preferred, preferredStep, 1);
        }

        if (Eligibility.WithinPreferredWindow(session, now))
        {
            return null;
        }

        var eligible = free.Where(a => !busy.Contains(a.AgentId) && Eligibility.IsEligible(a, session, policy, now)).ToList();
        var others = eligible.Where(a => !session.RejectedBy.Contains(a.AgentId)).ToList();
        var from = others.Count > 0 ? others : eligible;
        if (from.Count == 0)
        {
            return null;
        }

        var best = from.Aggregate((best, a) => AgentSelector.Better(a, best, session, policy.AgentSelection) ? a : best);
        Eligibility.IsEligible(best, session, policy, now, out var step);
        var candidates = others.Count == 0 ? 1
            : policy.AgentSelection == AgentSelection.LongestIdle ? Math.Min(others.Count, AgentRoster.CandidateCountLimit) : others.Count;
        return new AgentChoice(best, step, candidates);
    }
}
