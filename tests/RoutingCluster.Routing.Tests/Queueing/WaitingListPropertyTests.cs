using CsCheck;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Queueing;

/// <summary>
/// <see cref="WaitingList.BestFor"/> against its definition, over generated queues: of every waiting session the agent
/// may take now (eligible at the session's relaxation step, admitted by the preferred-agent and rejection rules, not
/// skipped), the first in service order, whatever its depth in the queue.
/// </summary>
public sealed class WaitingListPropertyTests
{
    private static readonly Channel[] Channels = [Channel.Voice, Channel.Chat, Channel.Email];

    private static readonly HeadStart[] HeadStarts = [HeadStart.None, HeadStart.None, HeadStart.OfSeconds(30), HeadStart.OfSeconds(60), HeadStart.Strict];

    private static readonly Dictionary<string, int>[] SkillSets =
    [
        [], Skills(("cards", 1)), Skills(("cards", 3)), Skills(("cards", 3), ("mandarin", 2)), Skills(("mandarin", 4)), Skills(("loans", 2)),
    ];

    private static readonly string[] Agents = ["a", "b", "c"];

    private static readonly RelaxationStep[][] Relaxations =
    [
        [], [new RelaxationStep(30, 1)], [new RelaxationStep(30, 1), new RelaxationStep(60, 2)], [new RelaxationStep(20, 2), new RelaxationStep(45, 1)],
    ];

    /// <summary>One waiting session: arrival (tenths of a second), channel, head start, skills, preferred agent and
    /// its wait (0: none), and which agents rejected it (bit mask).</summary>
    private static readonly Gen<(int Tenths, int Channel, int HeadStart, int Skills, int Preferred, int PreferredWait, int Rejected)> OneSession =
        Gen.Select(Gen.Int[0, 1200], Gen.Int[0, Channels.Length - 1], Gen.Int[0, HeadStarts.Length - 1], Gen.Int[0, SkillSets.Length - 1],
            Gen.Int[-3, Agents.Length - 1], Gen.Int[0, 60], Gen.Int[0, 7]);

    /// <summary>The agent: skills (cards, mandarin, loans levels), what it holds, and whether it is ready.</summary>
    private static readonly Gen<(int Cards, int Mandarin, int Loans, int Holding, bool Ready)> OneAgent =
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, 4], Gen.Int[0, 2], Gen.Int[0, 3], Gen.Bool);

    [Fact]
    public void BestFor_IsTheFirstInServiceOrderOfTheSessionsTheAgentMayTake()
    {
        Gen.Select(OneSession.Array[0, 120], OneAgent, Gen.Int[0, Relaxations.Length - 1], Gen.Int[0, 1800].Array[1, 6], Gen.Int[0, 30])
            .Sample((sessions, agentGen, relaxation, instants, removals) =>
            {
                var policy = QueuePolicy.Default with { Relaxation = Relaxations[relaxation] };
                var demands = sessions.Select((s, i) => Session(
                    $"s{i}",
                    At(s.Tenths / 10.0),
                    HeadStarts[s.HeadStart],
                    channel: Channels[s.Channel],
                    skills: SkillSets[s.Skills],
                    preferredAgent: s.Preferred < 0 ? null : Agents[s.Preferred],
                    preferredUntil: At((s.Tenths / 10.0) + s.PreferredWait),
                    rejectedBy: Agents.Where((_, bit) => (s.Rejected & (1 << bit)) != 0),
                    sequence: i)).ToList();
                var list = new WaitingList();
                foreach (var d in demands)
                {
                    list.Add(d);
                }

                // Some leave again (answered elsewhere, abandoned), so groups empty and fill.
                foreach (var d in demands.Where((_, i) => i % 31 == removals % 31 || i % 17 == removals % 17))
                {
                    list.Remove(d.SessionId);
                }

                var waiting = demands.Where(d => list.Contains(d.SessionId)).ToList();
                var agent = Agent(
                    "a",
                    state: agentGen.Ready ? AgentState.Ready : AgentState.NotReady,
                    skills: Skills(("cards", agentGen.Cards), ("mandarin", agentGen.Mandarin), ("loans", agentGen.Loans)),
                    active: agentGen.Holding switch
                    {
                        1 => Channels((Channel.Chat, 1)),
                        2 => Channels((Channel.Chat, 3)),
                        3 => Channels((Channel.Voice, 1)),
                        _ => new Dictionary<Channel, int>(),
                    });
                Func<SessionDemand, bool> anyoneElse = d => d.Sequence % 3 != 0;
                Func<SessionDemand, bool> skip = d => d.Sequence % 11 == 5;

                // Instants in any order: windows close as time passes, and a clock stepping back must not change the answer.
                foreach (var tenths in instants)
                {
                    var now = At(tenths / 10.0);
                    var expected = waiting
                        .Where(d => !skip(d)
                            && Eligibility.IsEligible(agent, d, policy, now)
                            && Eligibility.Admits(agent.AgentId, d, now, anyoneElse))
                        .OrderBy(d => d.Key)
                        .ThenBy(d => d.SessionId, StringComparer.Ordinal)
                        .FirstOrDefault();

                    var actual = list.BestFor(agent, policy, now, anyoneElse, skip);

                    Assert.Equal(expected?.SessionId, actual?.Session.SessionId);
                    if (expected is not null)
                    {
                        Assert.Equal(SkillRelaxation.StepAt(policy.Relaxation, (now - expected.Arrival).TotalSeconds), actual!.Value.RelaxationStep);
                    }
                }
            }, iter: 2_000);
    }
}
