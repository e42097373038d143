namespace RoutingCluster.Simulator.Tests;

/// <summary>Erlang C figures of an M/M/c queue (λ arrivals/s, AHT = 1/μ seconds, c agents).</summary>
public sealed record ErlangCFigures(double PWait, double AsaSeconds, double Occupancy, double ServiceLevelAt, double Threshold);

/// <summary>Mean waits of two non-preemptive priority classes (class 1 first) in M/M/c.</summary>
public sealed record CobhamFigures(double PWait, double HighMeanWait, double LowMeanWait, double OverallMeanWait);

/// <summary>Erlang A (M/M/c+M) figures; the service level counts sessions answered within the threshold over all
/// offered (abandoned included), as the KPI definitions.</summary>
public sealed record ErlangAFigures(double PWait, double PAbandon, double AsaAnsweredSeconds, double ServiceLevel, double ServiceLevelOfAnswered);

/// <summary>The queueing-theory oracles (Erlang C and Erlang A), computed from their formulas.</summary>
public static class QueueingOracles
{
    /// <summary>Erlang B by the stable recursion B(0)=1, B(k)=A·B(k−1)/(k+A·B(k−1)).</summary>
    public static double ErlangB(double a, int c)
    {
        var b = 1.0;
        for (var k = 1; k <= c; k++)
        {
            b = a * b / (k + a * b);
        }

        return b;
    }

    public static ErlangCFigures ErlangC(double lambda, double aht, int c, double threshold = 20)
    {
        var a = lambda * aht;
        if (a >= c)
        {
            throw new ArgumentException("unstable: A >= c");
        }

        var b = ErlangB(a, c);
        var pWait = c * b / (c - a * (1 - b));
        var asa = pWait * aht / (c - a);
        var sl = 1 - pWait * Math.Exp(-(c - a) * threshold / aht);
        return new ErlangCFigures(pWait, asa, a / c, sl, threshold);
    }

    /// <summary>Cobham: ρ_i = λ_i/(cμ), σ_k = ρ_1+…+ρ_k, W0 = P_wait/(cμ), W_k = W0/((1−σ_{k−1})(1−σ_k)).</summary>
    public static CobhamFigures Cobham(double lambdaHigh, double lambdaLow, double aht, int c)
    {
        var cmu = c / aht;
        var pWait = ErlangC(lambdaHigh + lambdaLow, aht, c).PWait;
        var w0 = pWait / cmu;
        var s1 = lambdaHigh / cmu;
        var s2 = s1 + lambdaLow / cmu;
        var high = w0 / (1 - s1);
        var low = w0 / ((1 - s1) * (1 - s2));
        return new CobhamFigures(pWait, high, low, (lambdaHigh * high + lambdaLow * low) / (lambdaHigh + lambdaLow));
    }

    /// <summary>
    /// Stationary distribution of the Erlang A birth–death chain (birth λ, death min(n,c)·μ + max(n−c,0)·θ),
    /// truncated where π_n &lt; 1e−15·Σπ; normalised.
    /// </summary>
    public static double[] ErlangADistribution(double lambda, double aht, double patience, int c)
    {
        var mu = 1 / aht;
        var theta = 1 / patience;
        var pi = new List<double> { 1.0 };
        var sum = 1.0;
        for (var n = 1; ; n++)
        {
            var death = Math.Min(n, c) * mu + Math.Max(n - c, 0) * theta;
            var p = pi[n - 1] * lambda / death;
            pi.Add(p);
            sum += p;
            if (sum > 1e250)
            {
                for (var i = 0; i < pi.Count; i++)
                {
                    pi[i] /= sum;
                }

                sum = 1;
            }

            if (n > c && p < 1e-15 * sum)
            {
                break;
            }
        }

        return [.. pi.Select(p => p / sum)];
    }

    /// <summary>
    /// Erlang A. P(abandon) = θ·E[(N−c)+]/λ. For the waits, an arrival that finds N = c + j (PASTA) has j sessions
    /// ahead of it; while k are ahead it moves up at rate cμ + kθ and leaves at rate θ, so it is answered with
    /// probability Π_{k=0..j} (cμ+kθ)/(cμ+(k+1)θ) after holding times Exp(cμ+(k+1)θ). The service level by time t
    /// comes from uniformising that absorbing chain.
    /// </summary>
    public static ErlangAFigures ErlangA(double lambda, double aht, double patience, int c, double threshold = 20)
    {
        var mu = 1 / aht;
        var theta = 1 / patience;
        var cmu = c * mu;
        var pi = ErlangADistribution(lambda, aht, patience, c);
        double pWait = 0, queue = 0;
        for (var n = c; n < pi.Length; n++)
        {
            pWait += pi[n];
            queue += (n - c) * pi[n];
        }

        var pAbandon = theta * queue / lambda;

        // Answered-wait moments: a session with j ahead.
        double answeredWaiting = 0, waitOfAnswered = 0;
        var served = 1.0;
        var holding = 0.0;
        for (var j = 0; c + j < pi.Length; j++)
        {
            var rate = cmu + (j + 1) * theta;
            served *= (cmu + j * theta) / rate;
            holding += 1 / rate;
            answeredWaiting += pi[c + j] * served;
            waitOfAnswered += pi[c + j] * served * holding;
        }

        var answered = 1 - pWait + answeredWaiting;
        var asa = waitOfAnswered / answered;

        // P(answered within t | waits) by uniformisation of the chain "j ahead" with absorption in "answered".
        var m = pi.Length - c;
        var big = cmu + (m + 1) * theta;
        var v = new double[m];
        for (var j = 0; j < m; j++)
        {
            v[j] = pi[c + j];
        }

        var absorbed = 0.0;
        var x = big * threshold;
        var weight = Math.Exp(-x);
        var logWeight = -x;
        var withinWaiting = 0.0;
        var steps = (int)Math.Ceiling(x + 12 * Math.Sqrt(x) + 30);
        var next = new double[m];
        for (var k = 0; ; k++)
        {
            // P(N_Poisson = k) · P(absorbed within k uniformised steps); the tail beyond k is added as 1 − CDF.
            withinWaiting += weight * absorbed;
            if (k == steps)
            {
                break;
            }

            absorbed += v[0] * cmu / big;
            for (var j = 0; j < m; j++)
            {
                var stay = 1 - (cmu + j * theta + theta) / big;
                next[j] = v[j] * stay + (j + 1 < m ? v[j + 1] * (cmu + (j + 1) * theta) / big : 0);
            }

            (v, next) = (next, v);
            logWeight += Math.Log(x) - Math.Log(k + 1);
            weight = Math.Exp(logWeight);
        }

        var sl = 1 - pWait + withinWaiting;
        return new ErlangAFigures(pWait, pAbandon, asa, sl, sl / answered);
    }
}
