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
/// bounded to about <see cref="Budget"/> of computing: a short calibration run measures how fast this machine
/// simulates; the runs that decide the number needed (from the formula's answer down or up to where the target is
/// just reached) share what is left of it; the table's other rows, far from the target, get a short run each. One what-if runs at a time per silo; others wait their turn.
/// </summary>
public sealed partial class StaffingSimulator(ILogger<StaffingSimulator> logger)
{
    /// <summary>The computing time one answer may take.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    private const int CalibrationSessions = 20_000;
    private const int MinSessions = 2_000;
    private const int FarSessions = 500;
    private const int FarSessionsOverBudget = 100;

    /// <summary>Rows either side of the formula's answer the budget is planned for (full runs).</summary>
    private const int NearRows = 3;
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

        // The number needed is decided on full runs, starting around the formula's answer and moving down or up
        // from it; those share the budget. The table's other rows (far from the target) get a short run each.
        var results = new Dictionary<int, SimulationResult>();
        var fullRunsLeft = 2 * NearRows + 1;
        SimulationResult Full(int agents)
        {
            if (!results.TryGetValue(agents, out var r) || r.Sessions < MinSessions)
            {
                var left = Budget - clock.Elapsed;
                var sessions = (int)Math.Clamp(perSecond * left.TotalSeconds / Math.Max(1, fullRunsLeft), MinSessions, MaxSessions);
                fullRunsLeft = Math.Max(1, fullRunsLeft - 1);
                r = Simulation.Run(Options(agents, sessions));
                results[agents] = r;
            }

            return r;
        }

        bool Reaches(int agents) => Full(agents).ServiceLevel >= targetServiceLevel;
        var least = Math.Max(1, load.LeastStableAgents);
        var needed = formula.AgentsNeeded;
        if (Reaches(needed))
        {
            while (needed > least && Reaches(needed - 1))
            {
                needed--;
            }
        }
        else
        {
            do
            {
                needed++;
            }
            while (needed < StaffingPlan.MaxAgents && !Reaches(needed));
        }

        var table = new List<StaffingPrediction>();
        for (var agents = least; agents <= needed + StaffingPlan.RowsBeyondNeeded; agents++)
        {
            if (!results.TryGetValue(agents, out var r))
            {
                var sessions = clock.Elapsed < Budget ? FarSessions : FarSessionsOverBudget;
                r = Simulation.Run(Options(agents, sessions));
                results[agents] = r;
            }

            table.Add(new StaffingPrediction(agents, r.ServiceLevel, r.ProbabilityOfWait, r.AsaSeconds, r.Occupancy, r.AbandonRate));
        }

        var plan = new StaffingPlan(needed, table.Single(row => row.Agents == needed), table);
        if (clock.Elapsed > Budget + TimeSpan.FromMilliseconds(500))
        {
            OverBudget(logger, clock.Elapsed.TotalMilliseconds, plan.Table.Count);
        }

        var atNeeded = results[plan.AgentsNeeded];
        var offered = Math.Max(1, atNeeded.Sessions);
        var bySegment = atNeeded.Segments.ToDictionary(
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
