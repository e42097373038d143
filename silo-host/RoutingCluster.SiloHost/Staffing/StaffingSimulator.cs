using System.Diagnostics;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Staffing;
using RoutingCluster.Routing.VirtualTime;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Staffing;

/// <summary>A staffing plan found by simulation, with the figures of each segment at the number of agents needed.</summary>
public sealed record SimulatedPlan(StaffingPlan Plan, IReadOnlyDictionary<string, StaffingSegmentResponse> BySegment);

/// <summary>
/// The <c>simulation</c> method of the staffing what-if: the queue's own routing policy (its head starts and agent
/// selection, through the same <c>QueueDispatcher</c> the queue grain runs) in the virtual-time simulator, once per
/// number of agents, on the given rates and the queue's measured share of elderly customers. The whole answer is
/// bounded to <see cref="Budget"/> of computing: the sessions simulated per number of agents are set from a short
/// calibration run so that all the rows fit in it. One what-if runs at a time per silo; others wait their turn.
/// </summary>
public sealed partial class StaffingSimulator(ILogger<StaffingSimulator> logger)
{
    /// <summary>The computing time one answer may take.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    private const int CalibrationSessions = 20_000;
    private const int MinSessions = 2_000;
    private const int MaxSessions = 2_000_000;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public async Task<SimulatedPlan> PlanAsync(StaffingLoad load, double targetServiceLevel, QueuePolicy policy, double elderlyShare, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => Plan(load, targetServiceLevel, policy, elderlyShare), cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Runs the simulation for each number of agents of the plan, within <see cref="Budget"/>.</summary>
    public SimulatedPlan Plan(StaffingLoad load, double targetServiceLevel, QueuePolicy policy, double elderlyShare)
    {
        var clock = Stopwatch.StartNew();
        var formula = StaffingPlan.ByFormula(load, targetServiceLevel);
        SimulationOptions Options(int agents, int sessions) => new()
        {
            Agents = agents,
            ArrivalsPerSecond = load.ArrivalsPerSecond,
            AhtSeconds = load.AhtSeconds,
            PatienceSeconds = load.PatienceSeconds,
            ServiceLevelSeconds = load.ThresholdSeconds,
            ElderlyShare = elderlyShare,
            Policy = policy,
            Sessions = sessions,
            Seed = 1,
            Batches = 2,
        };

        // Calibration: how many sessions a second this machine simulates, at the formula's answer.
        var calibration = Stopwatch.StartNew();
        Simulation.Run(Options(formula.AgentsNeeded, CalibrationSessions));
        var perSecond = CalibrationSessions / Math.Max(calibration.Elapsed.TotalSeconds, 1e-3);

        var results = new Dictionary<int, SimulationResult>();
        var expectedRows = formula.Table.Count + 2;
        var done = 0;
        StaffingPrediction Simulate(int agents)
        {
            var left = Budget - clock.Elapsed;
            var share = left.TotalSeconds / Math.Max(1, expectedRows - done);
            var sessions = (int)Math.Clamp(perSecond * share, MinSessions, MaxSessions);
            done++;
            var r = Simulation.Run(Options(agents, sessions));
            results[agents] = r;
            return new StaffingPrediction(agents, r.ServiceLevel, r.ProbabilityOfWait, r.AsaSeconds, r.Occupancy, r.AbandonRate);
        }

        var plan = StaffingPlan.Search(load, targetServiceLevel, Simulate);
        if (clock.Elapsed > Budget + TimeSpan.FromMilliseconds(500))
        {
            OverBudget(logger, clock.Elapsed.TotalMilliseconds, plan.Table.Count);
        }

        var needed = results[plan.AgentsNeeded];
        var offered = Math.Max(1, needed.Sessions);
        var bySegment = needed.Segments.ToDictionary(
            kv => kv.Key,
            kv => new StaffingSegmentResponse(
                Math.Round((double)kv.Value.Offered / offered, 4),
                Math.Round(kv.Value.ServiceLevel, 4),
                Math.Round(kv.Value.ProbabilityOfWait, 4),
                double.IsFinite(kv.Value.MeanWaitSeconds) ? Math.Round(kv.Value.MeanWaitSeconds, 3) : null,
                Math.Round(kv.Value.Offered > 0 ? (double)kv.Value.Abandoned / kv.Value.Offered : 0, 4)),
            StringComparer.Ordinal);
        return new SimulatedPlan(plan, bySegment);
    }

    [LoggerMessage(EventId = LogEventIds.StaffingSimulationCut, Level = LogLevel.Warning, Message = "A staffing simulation took {ElapsedMs} ms for {Rows} rows, beyond its budget")]
    private static partial void OverBudget(ILogger logger, double elapsedMs, int rows);
}
