using RoutingCluster.Routing.Staffing;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary><c>GET /v1/queues/{id}/staffing</c>: how many agents the load needs, with the figures around that number.</summary>
public sealed record StaffingResponse(
    string QueueId,
    StaffingMethod Method,
    double ArrivalsPerHour,
    double AhtSeconds,
    double TargetServiceLevel,
    double ThresholdSeconds,
    double? PatienceSeconds,
    int AgentsNeeded,
    int AgentsLoggedIn,
    int AgentsReady,
    StaffingFiguresResponse Predicted,
    IReadOnlyList<StaffingRowResponse> Table);

/// <summary>The predicted figures with the number of agents needed. <c>bySegment</c> (simulation only): the same
/// figures for each segment of the queue's measured mix (<c>elderly</c>, <c>ordinary</c>).</summary>
public sealed record StaffingFiguresResponse(
    double ServiceLevel,
    double ProbabilityOfWait,
    double? AverageSpeedOfAnswerSeconds,
    double Occupancy,
    double AbandonRate,
    IReadOnlyDictionary<string, StaffingSegmentResponse>? BySegment = null)
{
    public static StaffingFiguresResponse From(StaffingPrediction p, IReadOnlyDictionary<string, StaffingSegmentResponse>? bySegment = null) =>
        new(Fraction(p.ServiceLevel), Fraction(p.ProbabilityOfWait), SecondsOrNull(p.AverageSpeedOfAnswerSeconds), Fraction(p.Occupancy), Fraction(p.AbandonRate), bySegment);

    internal static double Fraction(double value) => Math.Round(value, 4);

    internal static double? SecondsOrNull(double value) => double.IsFinite(value) ? Wire.Seconds(value) : null;
}

/// <summary>One segment's simulated figures.</summary>
public sealed record StaffingSegmentResponse(double Share, double ServiceLevel, double ProbabilityOfWait, double? AverageSpeedOfAnswerSeconds, double AbandonRate);

/// <summary>One row of the table: the figures with <c>agents</c> agents. <c>averageSpeedOfAnswerSeconds</c> is null
/// where the queue is not stable (it grows without bound).</summary>
public sealed record StaffingRowResponse(int Agents, double ServiceLevel, double ProbabilityOfWait, double? AverageSpeedOfAnswerSeconds, double Occupancy, double AbandonRate)
{
    public static StaffingRowResponse From(StaffingPrediction p) =>
        new(p.Agents, StaffingFiguresResponse.Fraction(p.ServiceLevel), StaffingFiguresResponse.Fraction(p.ProbabilityOfWait), StaffingFiguresResponse.SecondsOrNull(p.AverageSpeedOfAnswerSeconds), StaffingFiguresResponse.Fraction(p.Occupancy), StaffingFiguresResponse.Fraction(p.AbandonRate));
}
