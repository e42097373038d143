namespace RoutingCluster.Routing.Staffing;

/// <summary>
/// Erlang A (M/M/N+M): Erlang C with customers who leave after an exponential patience of mean 1/θ.
/// <para>
/// The offered wait V (how long an arrival would wait if it were infinitely patient) has an atom at 0 and, above 0,
/// the density f(x) = λ·p(N−1)·exp(λ·H(x) − Nμ·x), where p(N−1) is the probability that N−1 agents are busy and
/// H(x) = (1 − e^(−θx))/θ (Baccelli and Hebuterne's formula for M/M/N+G, with exponential patience). An arrival is
/// answered when its patience outlasts V, so everything follows from integrals of f:
/// </para>
/// <list type="bullet">
/// <item>P(wait) = ∫f; served within t = P(V = 0) + ∫₀ᵗ e^(−θx)·f(x) dx; abandoned = ∫(1 − e^(−θx))·f(x) dx;</item>
/// <item>ASA of the answered = ∫x·e^(−θx)·f(x) dx / P(answered).</item>
/// </list>
/// The exponent is concave, so its integrand is unimodal; every quantity is kept as a logarithm relative to the
/// largest term (the sums of the Erlang terms and the integral alike), so nothing overflows for hundreds of agents
/// or loads of thousands of Erlangs. The integrals use composite Simpson over the range where the integrand is
/// above e^−40 of its peak.
/// </summary>
public static class ErlangA
{
    private const int Pieces = 2_000;
    private const double Cutoff = 40;

    public static StaffingPrediction Predict(StaffingLoad load, int agents)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(agents, 1);
        var patience = load.PatienceSeconds ?? throw new ArgumentException("Erlang A needs a patience.", nameof(load));
        var lambda = load.ArrivalsPerSecond;
        var mu = 1 / load.AhtSeconds;
        var theta = 1 / patience;
        var a = lambda / mu;
        if (lambda <= 0)
        {
            return new StaffingPrediction(agents, 1, 0, 0, 0, 0);
        }

        // Relative to p(N−1): p(j)/p(N−1) = (N−1)!/j! · A^(j−N+1), for j = N−1 down to 0, as logarithms.
        var logTerms = new List<double> { 0 };
        var logTerm = 0.0;
        var largest = 0.0;
        for (var j = agents - 1; j >= 1; j--)
        {
            logTerm += Math.Log(j) - Math.Log(a);
            logTerms.Add(logTerm);
            largest = Math.Max(largest, logTerm);
            if (logTerm < largest - 50)
            {
                break; // the remaining terms are smaller still and cannot change the sum
            }
        }

        var logNoWait = LogSumExp(logTerms);

        // g(x) = λ·H(x) − Nμ·x is concave with g'(x) = λe^(−θx) − Nμ: its peak is at 0 or at ln(λ/Nμ)/θ.
        var nmu = agents * mu;
        double G(double x) => (lambda * OneMinusExp(theta * x) / theta) - (nmu * x);
        var peak = lambda > nmu ? Math.Log(lambda / nmu) / theta : 0;
        var gPeak = G(peak);
        var lo = peak > 0 ? Edge(G, gPeak, peak, -1) : 0;
        var hi = Edge(G, gPeak, peak, +1);

        // Each integral is of h(x)·exp(g(x) − gPeak) over [lo, hi] (or up to the threshold).
        var wait = Integrate(x => 1, G, gPeak, lo, hi);
        var answeredWaiting = Integrate(x => Math.Exp(-theta * x), G, gPeak, lo, hi);
        var answeredWaitSum = Integrate(x => x * Math.Exp(-theta * x), G, gPeak, lo, hi);
        var t = load.ThresholdSeconds;
        var answeredWithin = t <= lo ? 0 : Integrate(x => Math.Exp(-theta * x), G, gPeak, lo, Math.Min(hi, t));

        // Normalise: p(N−1)·[Σ p(j)/p(N−1) + λ·∫exp(g)] = 1.
        var logScale = Math.Log(lambda) + gPeak;
        var logTotal = LogSumExp([logNoWait, logScale + Math.Log(wait)]);
        var noWait = Math.Exp(logNoWait - logTotal);
        double Share(double integral) => integral <= 0 ? 0 : Math.Exp(logScale + Math.Log(integral) - logTotal);

        var pWait = Share(wait);
        var answered = noWait + Share(answeredWaiting);
        var abandon = Math.Max(0, 1 - answered);
        var sl = noWait + Share(answeredWithin);
        var asa = answered > 0 ? Share(answeredWaitSum) / answered : 0;
        var occupancy = Math.Min(1, a * answered / agents);
        return new StaffingPrediction(agents, Math.Clamp(sl, 0, 1), Math.Clamp(pWait, 0, 1), asa, occupancy, Math.Clamp(abandon, 0, 1));
    }

    /// <summary>1 − e^(−y), accurate for small y too.</summary>
    private static double OneMinusExp(double y) => y < 1e-5 ? y - (y * y / 2) + (y * y * y / 6) : 1 - Math.Exp(-y);

    /// <summary>Where the concave exponent has fallen <see cref="Cutoff"/> below its peak, searching from the peak in one direction.</summary>
    private static double Edge(Func<double, double> g, double gPeak, double peak, int direction)
    {
        var step = 1.0;
        var x = peak;
        while (true)
        {
            var next = peak + (direction * step);
            if (direction < 0 && next <= 0)
            {
                return 0;
            }

            if (g(next) < gPeak - Cutoff || step > 1e12)
            {
                // Narrow it down between x and next by bisection.
                double inside = x, outside = next;
                for (var i = 0; i < 60; i++)
                {
                    var mid = (inside + outside) / 2;
                    if (g(mid) < gPeak - Cutoff)
                    {
                        outside = mid;
                    }
                    else
                    {
                        inside = mid;
                    }
                }

                return outside;
            }

            x = next;
            step *= 2;
        }
    }

    private static double Integrate(Func<double, double> h, Func<double, double> g, double gPeak, double from, double to)
    {
        if (to <= from)
        {
            return 0;
        }

        var width = (to - from) / Pieces;
        double F(double x) => h(x) * Math.Exp(g(x) - gPeak);
        var sum = F(from) + F(to);
        for (var i = 1; i < Pieces; i++)
        {
            sum += F(from + (i * width)) * (i % 2 == 1 ? 4 : 2);
        }

        return sum * width / 3;
    }

    private static double LogSumExp(IReadOnlyList<double> logs)
    {
        var max = logs.Max();
        var sum = 0.0;
        foreach (var l in logs)
        {
            sum += Math.Exp(l - max);
        }

        return max + Math.Log(sum);
    }
}
