using BenchmarkDotNet.Attributes;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Benchmarks;

/// <summary>
/// The cost of one routing decision at the sizes the queue must carry: 100,000 waiting sessions (session
/// surplus) and 10,000 free agents (agent surplus). Inputs are built once, from a fixed seed, with explicit
/// instants: no clock.
/// </summary>
[MemoryDiagnoser]
public class RoutingDecisionBenchmarks
{
    private const int Waiting = 100_000;
    private const int FreeAgents = 10_000;
    private const string Queue = "cards";

    private static readonly DateTimeOffset Now = new(2025, 3, 3, 12, 0, 0, TimeSpan.Zero);

    private static readonly Channel[] Channels = [Channel.Voice, Channel.Chat, Channel.Email, Channel.Wechat];

    private static readonly HeadStart[] HeadStarts =
        [HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.OfSeconds(60), HeadStart.OfSeconds(30)];

    private static readonly Func<SessionDemand, bool> NoOneElseEligible = _ => false;

    private static readonly IReadOnlySet<string> NoneBusy = new HashSet<string>();

    private readonly QueuePolicy _longestIdle = QueuePolicy.Default with
    {
        Relaxation = [new RelaxationStep(30, 1), new RelaxationStep(60, 2)],
    };

    private readonly QueuePolicy _noRelaxation = QueuePolicy.Default;

    private readonly QueuePolicy _mostSkilled = QueuePolicy.Default with { AgentSelection = AgentSelection.MostSkilled };

    private readonly WaitingList _waiting = new();
    private readonly AgentRoster _roster = new();
    private SessionDemand _newcomer = null!;
    private SessionDemand _demand = null!;
    private SessionDemand _unskilledDemand = null!;
    private AgentSupply _arrivingAgent = null!;
    private AgentSupply _mismatchedAgent = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20250303);

        // A full queue: arrivals spread over the last 15 minutes (the default max wait), four channels, one in five
        // sessions needing Mandarin, a quarter with a head start.
        for (var i = 0; i < Waiting; i++)
        {
            var skills = new Dictionary<string, int> { ["cards"] = random.Next(1, 4) };
            if (random.Next(5) == 0)
            {
                skills["mandarin"] = 3;
            }

            _waiting.Add(new SessionDemand
            {
                SessionId = $"s-{i}",
                QueueId = Queue,
                Channel = Channels[random.Next(Channels.Length)],
                Arrival = Now - TimeSpan.FromMilliseconds(random.Next(0, 900_000)),
                HeadStart = HeadStarts[random.Next(HeadStarts.Length)],
                RequiredSkills = skills,
                Sequence = i,
            });
        }

        // The session added and removed again: it lands mid-queue.
        _newcomer = new SessionDemand
        {
            SessionId = "newcomer",
            QueueId = Queue,
            Channel = Channel.Chat,
            Arrival = Now - TimeSpan.FromSeconds(450),
            HeadStart = HeadStart.OfSeconds(60),
            RequiredSkills = new Dictionary<string, int> { ["cards"] = 2 },
            Sequence = Waiting,
        };

        // An agent becoming free, able to take any channel, lacking Mandarin.
        _arrivingAgent = new AgentSupply
        {
            AgentId = "arriving",
            State = AgentState.Ready,
            Queues = [Queue],
            Skills = new Dictionary<string, int> { ["cards"] = 4 },
            IdleSince = Now,
            Version = 1,
        };

        // The worst case for session surplus: an agent that can take none of them (every session needs cards).
        _mismatchedAgent = _arrivingAgent with { AgentId = "mismatched", Skills = new Dictionary<string, int> { ["loans"] = 5 } };

        // Agent surplus: 10,000 free agents, every one eligible for the session.
        for (var i = 0; i < FreeAgents; i++)
        {
            _roster.Update(new AgentSupply
            {
                AgentId = $"a-{i:D5}",
                State = AgentState.Ready,
                Queues = [Queue, "loans"],
                Skills = new Dictionary<string, int> { ["cards"] = random.Next(2, 6), ["mandarin"] = random.Next(1, 6) },
                IdleSince = Now - TimeSpan.FromMilliseconds(random.Next(0, 3_600_000)),
                Version = 1,
            });
        }

        _demand = new SessionDemand
        {
            SessionId = "incoming",
            QueueId = Queue,
            Channel = Channel.Voice,
            Arrival = Now,
            RequiredSkills = new Dictionary<string, int> { ["cards"] = 2, ["mandarin"] = 1 },
            Sequence = 1,
        };

        // A session needing a skill none of the free agents has.
        _unskilledDemand = _demand with { SessionId = "unskilled", RequiredSkills = new Dictionary<string, int> { ["loans"] = 1 } };

        // Measure what the names say, or nothing.
        Check(_waiting.Count == Waiting, "the queue holds 100,000");
        Check(WaitingList_BestFor_100k() is not null, "the arriving agent finds a session");
        Check(WaitingList_BestFor_100k_NoneEligible() is null, "the mismatched agent finds none");
        Check(AgentRoster_PickFor_LongestIdle_10k()?.CandidateCount == Math.Min(FreeAgents, AgentRoster.CandidateCountLimit), "every free agent is eligible (counted up to the limit)");
        Check(AgentRoster_PickFor_MostSkilled_10k()?.CandidateCount == FreeAgents, "every free agent is eligible");
        Check(AgentRoster_PickFor_LongestIdle_10k_NoneEligible() is null, "no free agent is eligible for the unskilled session");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark setup is wrong: expected {what}.");
        }
    }

    /// <summary>(a) A session joins a queue of 100,000 and leaves it again (answered, abandoned or offered).</summary>
    [Benchmark]
    public SessionDemand? WaitingList_AddRemove_100k()
    {
        _waiting.Add(_newcomer);
        return _waiting.Remove(_newcomer.SessionId);
    }

    /// <summary>(b) An agent becomes free in front of a queue of 100,000: the best session for it over every channel.</summary>
    [Benchmark]
    public Candidate? WaitingList_BestFor_100k() =>
        _waiting.BestFor(_arrivingAgent, _longestIdle, Now, NoOneElseEligible);

    /// <summary>(b, worst case) The free agent can take none of the 100,000 (no relaxation, no matching skill). The
    /// waiting list's groups by skill set show at once that none is for this agent, without scanning sessions.</summary>
    [Benchmark]
    public Candidate? WaitingList_BestFor_100k_NoneEligible() =>
        _waiting.BestFor(_mismatchedAgent, _noRelaxation, Now, NoOneElseEligible);

    /// <summary>The next relaxation instant over 100,000 waiting: asked whenever the queue re-arms its alarm.</summary>
    [Benchmark]
    public DateTimeOffset? WaitingList_NextEligibilityChange_100k() =>
        _waiting.NextEligibilityChange(_longestIdle, Now);

    /// <summary>(c) A session arrives with 10,000 eligible free agents: longest-idle.</summary>
    [Benchmark]
    public AgentChoice? AgentRoster_PickFor_LongestIdle_10k() =>
        _roster.PickFor(_demand, _longestIdle, Now, NoneBusy);

    /// <summary>(c) A session arrives with 10,000 eligible free agents: most-skilled.</summary>
    [Benchmark]
    public AgentChoice? AgentRoster_PickFor_MostSkilled_10k() =>
        _roster.PickFor(_demand, _mostSkilled, Now, NoneBusy);

    /// <summary>(c, worst case) A session arrives that none of the 10,000 free agents may take (no one has the skill,
    /// no relaxation).</summary>
    [Benchmark]
    public AgentChoice? AgentRoster_PickFor_LongestIdle_10k_NoneEligible() =>
        _roster.PickFor(_unskilledDemand, _noRelaxation, Now, NoneBusy);
}
