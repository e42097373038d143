using System.Globalization;

namespace RoutingCluster.Client;

/// <summary>How a staffing question is answered.</summary>
public enum StaffingMethod
{
    /// <summary>Erlang C without patience, Erlang A with it.</summary>
    Formula,

    /// <summary>The queue's own routing policy in the simulator.</summary>
    Simulation,
}

/// <summary>The parameters of <c>GET /v1/queues/{id}/staffing</c>; each null takes the server's default.</summary>
public sealed record StaffingQuestion
{
    public double? ArrivalsPerHour { get; init; }

    public double? AhtSeconds { get; init; }

    public double? TargetServiceLevel { get; init; }

    public double? ThresholdSeconds { get; init; }

    public double? PatienceSeconds { get; init; }

    public StaffingMethod? Method { get; init; }

    internal string ToQuery()
    {
        var parts = new List<string>();
        void Add(string name, double? value)
        {
            if (value is { } v)
            {
                parts.Add($"{name}={v.ToString("R", CultureInfo.InvariantCulture)}");
            }
        }

        Add("arrivalsPerHour", ArrivalsPerHour);
        Add("ahtSeconds", AhtSeconds);
        Add("targetServiceLevel", TargetServiceLevel);
        Add("thresholdSeconds", ThresholdSeconds);
        Add("patienceSeconds", PatienceSeconds);
        if (Method is { } method)
        {
            parts.Add("method=" + WireNames<StaffingMethod>.Of(method));
        }

        return parts.Count == 0 ? string.Empty : "?" + string.Join("&", parts);
    }
}

/// <summary>The answer of <c>GET /v1/queues/{id}/staffing</c>.</summary>
public sealed record StaffingAnswer
{
    public required string QueueId { get; init; }

    public StaffingMethod Method { get; init; }

    public double ArrivalsPerHour { get; init; }

    public double AhtSeconds { get; init; }

    public double TargetServiceLevel { get; init; }

    public double ThresholdSeconds { get; init; }

    public double? PatienceSeconds { get; init; }

    /// <summary>The least number of agents whose predicted service level reaches the target.</summary>
    public int AgentsNeeded { get; init; }

    public int AgentsLoggedIn { get; init; }

    public int AgentsReady { get; init; }

    public required StaffingFigures Predicted { get; init; }

    /// <summary>From the least stable number of agents (1 with patience) to <see cref="AgentsNeeded"/> + 3.</summary>
    public IReadOnlyList<StaffingRow> Table { get; init; } = [];
}

/// <summary>The predicted figures with the number of agents needed; <see cref="BySegment"/> with the simulation only.</summary>
public sealed record StaffingFigures
{
    public double ServiceLevel { get; init; }

    public double ProbabilityOfWait { get; init; }

    /// <summary>Null where the queue is not stable.</summary>
    public double? AverageSpeedOfAnswerSeconds { get; init; }

    public double Occupancy { get; init; }

    public double AbandonRate { get; init; }

    public IReadOnlyDictionary<string, StaffingSegmentFigures>? BySegment { get; init; }
}

/// <summary>One segment's simulated figures (<c>elderly</c>, <c>ordinary</c>) and its share of the arrivals.</summary>
public sealed record StaffingSegmentFigures
{
    public double Share { get; init; }

    public double ServiceLevel { get; init; }

    public double ProbabilityOfWait { get; init; }

    public double? AverageSpeedOfAnswerSeconds { get; init; }

    public double AbandonRate { get; init; }
}

/// <summary>One row of the staffing table.</summary>
public sealed record StaffingRow
{
    public int Agents { get; init; }

    public double ServiceLevel { get; init; }

    public double ProbabilityOfWait { get; init; }

    public double? AverageSpeedOfAnswerSeconds { get; init; }

    public double Occupancy { get; init; }

    public double AbandonRate { get; init; }
}
