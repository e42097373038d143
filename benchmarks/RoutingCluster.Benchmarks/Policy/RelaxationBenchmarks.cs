using BenchmarkDotNet.Attributes;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Benchmarks.Policy;

/// <summary>
/// A relaxation step reached with 100,000 waiting. Nothing is re-scored: a session's place (its WaitKey, arrival −
/// head start) is fixed at arrival, and a step only changes which agents are eligible. What a step costs is the
/// queue grain's wake-up (QueueGrain.WakeAsync): every free agent asks the waiting list for its best session
/// (<see cref="WaitingList.BestFor"/>), the one it gets leaves the list for the offer, and the alarm is re-armed
/// (<see cref="WaitingList.NextEligibilityChange"/>). <see cref="Rescore_All_100k"/> is what re-scoring every waiting
/// session at each step would cost instead (the queue never does it).
/// </summary>
/// <remarks>
/// The queue: 100,000 sessions that arrived in a burst over 60 s, on four channels, every one needing cards at
/// level 3; relaxation steps at 30 s (−1) and 60 s (−2). Sixteen free agents with cards at level 1: eligible for
/// nobody until a session has waited 60 s. <see cref="HeadStarts"/>: "none" (no session has a head start, so the
/// relaxed sessions are at the head of the service order) or "mixed" (a quarter of them have 30 s or 60 s, as in
/// <see cref="RoutingDecisionBenchmarks"/>: the sessions placed ahead of the first relaxed ones then outnumber 4,096
/// per channel, so a bounded scan of the service order would not reach the relaxed ones).
/// </remarks>
[MemoryDiagnoser]
public class RelaxationBenchmarks
{
    public const int Waiting = 100_000;
    public const int FreeAgents = 16;
    private const string Queue = "cards";

    private static readonly DateTimeOffset BurstStart = new(2025, 3, 3, 12, 0, 0, TimeSpan.Zero);

    /// <summary>0.1 s after the oldest sessions reached the 60 s step: about 170 of them are relaxed.</summary>
    public static readonly DateTimeOffset StepReached = BurstStart + TimeSpan.FromSeconds(60.1);

    /// <summary>Just before the step: nobody is eligible for these agents (a position-update or agent wake-up).</summary>
    public static readonly DateTimeOffset BeforeStep = BurstStart + TimeSpan.FromSeconds(59.9);

    private static readonly Channel[] Channels = [Channel.Voice, Channel.Chat, Channel.Email, Channel.Wechat];

    private static readonly Func<SessionDemand, bool> NoOneElseEligible = _ => false;

    public static readonly QueuePolicy Policy = QueuePolicy.Default with
    {
        Relaxation = [new RelaxationStep(30, 1), new RelaxationStep(60, 2)],
        MaxWaiting = 1_000_000,
    };

    private readonly List<SessionDemand> _taken = new(FreeAgents);
    private WaitingList _waiting = null!;
    private AgentSupply[] _agents = null!;

    [Params("none", "mixed")]
    public string HeadStarts { get; set; } = "none";

    /// <summary>Sessions that one wake-up at <see cref="StepReached"/> hands to the free agents (set up once, for the report).</summary>
    public int OffersAtStep { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _waiting = BuildQueue(HeadStarts == "mixed", Waiting, seed: 20250303);
        _agents = [.. Enumerable.Range(0, FreeAgents).Select(i => new AgentSupply
        {
            AgentId = $"low-{i:D2}",
            State = AgentState.Ready,
            Queues = [Queue],
            Skills = new Dictionary<string, int> { ["cards"] = 1 },
            IdleSince = BurstStart - TimeSpan.FromSeconds(i),
            Version = 1,
        })];

        OffersAtStep = Wake_AtRelaxationStep_100k();
        Check(Wake_BeforeRelaxationStep_100k() == 0, "nobody is eligible before the step");
        Check(_waiting.Count == Waiting, "the queue holds 100,000 again after a wake-up");
        Check(HeadStarts == "mixed" || OffersAtStep == FreeAgents, "with no head starts, every free agent finds a relaxed session at the step");
        Console.WriteLine($"// RelaxationBenchmarks({HeadStarts}): one wake-up at the step offers {OffersAtStep} of {FreeAgents} free agents a session; "
            + $"{Reachable(HeadStarts == "mixed")}.");
    }

    /// <summary>For the report: how many of the sessions relaxed at the step an agent can get at all, taking them one
    /// after another (each BestFor removes what it found) until BestFor finds nothing.</summary>
    public static string Reachable(bool headStarts)
    {
        var waiting = BuildQueue(headStarts, Waiting, seed: 20250303);
        var relaxed = waiting.All.Count(d => (StepReached - d.Arrival).TotalSeconds >= 60);
        var agent = new AgentSupply
        {
            AgentId = "low",
            State = AgentState.Ready,
            Queues = [Queue],
            Skills = new Dictionary<string, int> { ["cards"] = 1 },
            Version = 1,
        };
        var found = 0;
        while (waiting.BestFor(agent, Policy, StepReached, NoOneElseEligible) is { } best)
        {
            waiting.Remove(best.Session.SessionId);
            found++;
        }

        return $"{relaxed} sessions are relaxed at the step, an agent finds {found} of them one after another";
    }

    /// <summary>The queue that arrived in a burst: <paramref name="count"/> sessions over the 60 s before the step.</summary>
    public static WaitingList BuildQueue(bool headStarts, int count, int seed)
    {
        var random = new Random(seed);
        HeadStart[] mix = headStarts
            ? [HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.None, HeadStart.OfSeconds(60), HeadStart.OfSeconds(30)]
            : [HeadStart.None];
        var waiting = new WaitingList();
        for (var i = 0; i < count; i++)
        {
            waiting.Add(new SessionDemand
            {
                SessionId = $"s-{i}",
                QueueId = Queue,
                Channel = Channels[random.Next(Channels.Length)],
                Arrival = BurstStart + TimeSpan.FromTicks((long)(i * (TimeSpan.FromSeconds(60).Ticks / (double)count))),
                HeadStart = mix[random.Next(mix.Length)],
                RequiredSkills = new Dictionary<string, int> { ["cards"] = 3 },
                Sequence = i,
            });
        }

        return waiting;
    }

    /// <summary>The wake-up at the step: each free agent takes its best session (now relaxed), then the alarm is
    /// re-armed. The sessions taken are put back afterwards (about one enqueue each) so every run sees 100,000.</summary>
    [Benchmark]
    public int Wake_AtRelaxationStep_100k() => Wake(StepReached);

    /// <summary>The same wake-up 0.2 s earlier: no free agent may take anything yet.</summary>
    [Benchmark]
    public int Wake_BeforeRelaxationStep_100k() => Wake(BeforeStep);

    /// <summary>Reference only: the score (seconds waited + head start) and relaxation step of every waiting session,
    /// recomputed, as a design without fixed keys would have to at each step. The queue never does this.</summary>
    [Benchmark]
    public double Rescore_All_100k()
    {
        var sum = 0.0;
        foreach (var demand in _waiting.All)
        {
            sum += demand.ScoreAt(StepReached) + SkillRelaxation.StepAt(Policy.Relaxation, (StepReached - demand.Arrival).TotalSeconds);
        }

        return sum;
    }

    private int Wake(DateTimeOffset now)
    {
        _taken.Clear();
        foreach (var agent in _agents)
        {
            if (_waiting.BestFor(agent, Policy, now, NoOneElseEligible) is { } best)
            {
                _waiting.Remove(best.Session.SessionId);
                _taken.Add(best.Session);
            }
        }

        _ = _waiting.NextEligibilityChange(Policy, now);
        foreach (var demand in _taken)
        {
            _waiting.Add(demand);
        }

        return _taken.Count;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark setup is wrong: expected {what}.");
        }
    }
}
