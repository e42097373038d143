namespace RoutingCluster.Routing.Staffing;

/// <summary>How a staffing question is answered.</summary>
public enum StaffingMethod
{
    /// <summary>Erlang C without patience, Erlang A with it.</summary>
    Formula,

    /// <summary>The queue's own routing policy run in the virtual-time simulator.</summary>
    Simulation,
}

/// <summary>The answer to "how many agents does this load need": the least number reaching the target, and the
/// figures from the least stable number of agents to that number + 3.</summary>
public sealed record StaffingPlan(int AgentsNeeded, StaffingPrediction Predicted, IReadOnlyList<StaffingPrediction> Table)
{
    /// <summary>Rows shown beyond the number of agents needed.</summary>
    public const int RowsBeyondNeeded = 3;

    /// <summary>The most agents a plan searches; a target not reached by then is answered with this number.</summary>
    public const int MaxAgents = 20_000;

    /// <summary>Plans with the formula: Erlang C without patience, Erlang A with it.</summary>
    public static StaffingPlan ByFormula(StaffingLoad load, double targetServiceLevel) =>
        Search(load, targetServiceLevel, load.PatienceSeconds is null ? n => ErlangC.Predict(load, n) : n => ErlangA.Predict(load, n));

    /// <summary>
    /// Walks the number of agents up from the least stable one until <paramref name="predict"/> reaches the target,
    /// then adds <see cref="RowsBeyondNeeded"/> rows. Service level grows with the number of agents, so the first
    /// number that reaches the target is the least.
    /// </summary>
    public static StaffingPlan Search(StaffingLoad load, double targetServiceLevel, Func<int, StaffingPrediction> predict)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(predict);
        var table = new List<StaffingPrediction>();
        int? needed = null;
        for (var n = Math.Max(1, load.LeastStableAgents); n <= MaxAgents; n++)
        {
            var row = predict(n);
            table.Add(row);
            if (needed is null && row.ServiceLevel >= targetServiceLevel)
            {
                needed = n;
            }

            if (needed is { } found && n >= found + RowsBeyondNeeded)
            {
                break;
            }
        }

        var agentsNeeded = needed ?? table[^1].Agents;
        return new StaffingPlan(agentsNeeded, table.First(r => r.Agents == agentsNeeded), table);
    }
}
