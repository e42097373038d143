namespace RoutingCluster.Routing.Staffing;

/// <summary>What a queueing formula predicts for one number of agents. Rates are fractions in [0, 1]; durations seconds.</summary>
/// <param name="Agents">Number of agents.</param>
/// <param name="ServiceLevel">Share of all arrivals answered within the threshold (abandons count as not served).</param>
/// <param name="ProbabilityOfWait">Share of arrivals that find every agent busy.</param>
/// <param name="AverageSpeedOfAnswerSeconds">Mean wait of the answered arrivals.</param>
/// <param name="Occupancy">Share of the agents' time spent handling (answered load / agents).</param>
/// <param name="AbandonRate">Share of arrivals that leave before being answered.</param>
public sealed record StaffingPrediction(
    int Agents,
    double ServiceLevel,
    double ProbabilityOfWait,
    double AverageSpeedOfAnswerSeconds,
    double Occupancy,
    double AbandonRate);

/// <summary>The load a staffing question is about: Poisson arrivals, exponential handling time, optional exponential patience.</summary>
/// <param name="ArrivalsPerHour">Arrival rate.</param>
/// <param name="AhtSeconds">Average handling time (talk and after-call work).</param>
/// <param name="ThresholdSeconds">The service-level threshold.</param>
/// <param name="PatienceSeconds">Mean patience; null: customers never leave.</param>
public sealed record StaffingLoad(double ArrivalsPerHour, double AhtSeconds, double ThresholdSeconds, double? PatienceSeconds = null)
{
    public double ArrivalsPerSecond => ArrivalsPerHour / 3600;

    /// <summary>The offered load in Erlangs (arrivals × handling time).</summary>
    public double Erlangs => ArrivalsPerSecond * AhtSeconds;

    /// <summary>The least number of agents with which the queue is stable: without patience more agents than Erlangs;
    /// with patience any number (the customers who leave keep it bounded).</summary>
    public int LeastStableAgents => PatienceSeconds is null ? (int)Math.Floor(Erlangs) + 1 : 1;
}

/// <summary>
/// Erlang C (M/M/N): Poisson arrivals, exponential handling, infinitely patient customers. Erlang B comes from the
/// recursion B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)), which stays in [0, 1] for any N (no factorials, no powers).
/// </summary>
public static class ErlangC
{
    /// <summary>Erlang B: the share of arrivals a loss system of <paramref name="agents"/> servers blocks at load <paramref name="erlangs"/>.</summary>
    public static double ErlangB(double erlangs, int agents)
    {
        var b = 1.0;
        for (var n = 1; n <= agents; n++)
        {
            b = erlangs * b / (n + erlangs * b);
        }

        return b;
    }

    /// <summary>The probability that an arrival waits: C = N·B / (N − A·(1 − B)); 1 when the queue is not stable.</summary>
    public static double ProbabilityOfWait(double erlangs, int agents)
    {
        if (erlangs <= 0)
        {
            return 0;
        }

        if (agents <= erlangs)
        {
            return 1;
        }

        var b = ErlangB(erlangs, agents);
        return agents * b / (agents - erlangs * (1 - b));
    }

    /// <summary>The figures for <paramref name="agents"/> agents; an unstable queue (N ≤ A) answers nobody in time.</summary>
    public static StaffingPrediction Predict(StaffingLoad load, int agents)
    {
        var a = load.Erlangs;
        if (agents <= a)
        {
            return new StaffingPrediction(agents, 0, 1, double.PositiveInfinity, 1, 0);
        }

        var c = ProbabilityOfWait(a, agents);
        var sl = 1 - (c * Math.Exp(-(agents - a) * load.ThresholdSeconds / load.AhtSeconds));
        var asa = c * load.AhtSeconds / (agents - a);
        return new StaffingPrediction(agents, Math.Clamp(sl, 0, 1), c, asa, a / agents, 0);
    }
}
