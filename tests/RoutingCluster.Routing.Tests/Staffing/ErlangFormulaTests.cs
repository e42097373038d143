using RoutingCluster.Routing.Staffing;

namespace RoutingCluster.Routing.Tests.Staffing;

public class ErlangFormulaTests
{
    [Fact]
    public void ErlangC_ClassicExample_Needs14AgentsForEightyInTwenty()
    {
        // The worked example of the Erlang C formula published by Call Centre Helper ("Erlang C Formula – Made Simple
        // With an Easy Worked Example"): 100 calls in 30 minutes, AHT 180 s, target 80% answered within 20 s.
        // Traffic 10 Erlangs; 14 agents: probability of waiting 17.41%, service level 88.84%, ASA 7.8 s;
        // 13 agents reach 79.56% only.
        var load = new StaffingLoad(ArrivalsPerHour: 200, AhtSeconds: 180, ThresholdSeconds: 20);

        var plan = StaffingPlan.ByFormula(load, targetServiceLevel: 0.8);

        Assert.Equal(14, plan.AgentsNeeded);
        Assert.Equal(0.1741, plan.Predicted.ProbabilityOfWait, 4);
        Assert.Equal(0.8884, plan.Predicted.ServiceLevel, 4);
        Assert.Equal(7.8, plan.Predicted.AverageSpeedOfAnswerSeconds, 1);
        Assert.Equal(10.0 / 14, plan.Predicted.Occupancy, 6);
        Assert.Equal(0.7956, plan.Table.Single(r => r.Agents == 13).ServiceLevel, 4);
    }

    [Fact]
    public void ErlangC_Table_RunsFromLeastStableToThreeBeyondNeeded()
    {
        var plan = StaffingPlan.ByFormula(new StaffingLoad(200, 180, 20), 0.8);

        Assert.Equal(Enumerable.Range(11, 14 + 3 - 11 + 1), plan.Table.Select(r => r.Agents));
        Assert.All(plan.Table, r => Assert.Equal(0, r.AbandonRate));
        Assert.True(plan.Table.Zip(plan.Table.Skip(1)).All(p => p.First.ServiceLevel < p.Second.ServiceLevel));
    }

    /// <summary>
    /// Parameter sets: arrivals per hour, AHT seconds, threshold seconds, target. From a small queue to one of
    /// about 900 Erlangs, where factorials and powers overflow a double long before the answer.
    /// </summary>
    public static TheoryData<double, double, double, double> ParameterSets => new()
    {
        { 200, 180, 20, 0.8 },      // 10 Erlangs
        { 360, 240, 20, 0.8 },      // 24 Erlangs
        { 30, 600, 60, 0.9 },       // 5 Erlangs, long calls
        { 2_000, 300, 30, 0.85 },   // 166.7 Erlangs
        { 12_000, 270, 15, 0.95 },  // 900 Erlangs
        { 5, 120, 20, 0.8 },        // 0.17 Erlangs: one agent
    };

    [Theory]
    [MemberData(nameof(ParameterSets))]
    public void ErlangC_AgentsNeeded_MatchesIndependentComputation(double arrivalsPerHour, double aht, double threshold, double target)
    {
        var load = new StaffingLoad(arrivalsPerHour, aht, threshold);

        var plan = StaffingPlan.ByFormula(load, target);

        var expected = IndependentErlangC.AgentsNeeded(load.Erlangs, aht, threshold, target);
        Assert.Equal(expected, plan.AgentsNeeded);
        foreach (var row in plan.Table)
        {
            var (pWait, sl) = IndependentErlangC.Figures(load.Erlangs, row.Agents, aht, threshold);
            Assert.Equal(pWait, row.ProbabilityOfWait, 9);
            Assert.Equal(sl, row.ServiceLevel, 9);
        }
    }

    [Theory]
    [InlineData(200, 180, 20, 10, 14)]
    [InlineData(360, 240, 20, 24, 30)]
    [InlineData(2_000, 300, 30, 166, 175)]
    public void ErlangA_WithVeryLongPatience_ApproachesErlangC(double arrivalsPerHour, double aht, double threshold, int from, int to)
    {
        for (var n = from + 1; n <= to; n++)
        {
            var c = ErlangC.Predict(new StaffingLoad(arrivalsPerHour, aht, threshold), n);
            var a = ErlangA.Predict(new StaffingLoad(arrivalsPerHour, aht, threshold, PatienceSeconds: 1e12), n);

            Assert.Equal(c.ProbabilityOfWait, a.ProbabilityOfWait, 4);
            Assert.Equal(c.ServiceLevel, a.ServiceLevel, 4);
            Assert.Equal(c.AverageSpeedOfAnswerSeconds, a.AverageSpeedOfAnswerSeconds, c.AverageSpeedOfAnswerSeconds * 1e-3 + 1e-6);
            Assert.Equal(0, a.AbandonRate, 4);
        }
    }

    [Theory]
    [InlineData(360, 60, 120, 6)]
    [InlineData(200, 180, 60, 8)]
    [InlineData(200, 180, 600, 12)]
    [InlineData(20_000, 300, 180, 1_600)]
    public void ErlangA_MatchesItsBirthDeathChain(double arrivalsPerHour, double aht, double patience, int agents)
    {
        // The chain: birth λ, death min(n, N)·μ + max(n − N, 0)·θ. PASTA: P(wait) = P(n ≥ N); Little on the
        // abandons: λ·P(abandon) = θ·E[(n − N)+].
        var lambda = arrivalsPerHour / 3600;
        var (pWait, queue) = BirthDeath(lambda, 1 / aht, 1 / patience, agents);

        var a = ErlangA.Predict(new StaffingLoad(arrivalsPerHour, aht, 20, patience), agents);

        Assert.Equal(pWait, a.ProbabilityOfWait, 5);
        Assert.Equal(queue / patience / lambda, a.AbandonRate, 5);
        Assert.Equal(lambda * aht * (1 - a.AbandonRate) / agents, a.Occupancy, 5);
    }

    [Fact]
    public void ErlangA_OverloadedQueue_IsStableAndAbandonsTheExcess()
    {
        // 2 agents, 10 Erlangs offered: at most 2 Erlangs are served, so at least 80% leave.
        var a = ErlangA.Predict(new StaffingLoad(200, 180, 20, PatienceSeconds: 60), 2);

        Assert.InRange(a.AbandonRate, 0.8, 1);
        Assert.InRange(a.Occupancy, 0.95, 1);
        Assert.InRange(a.ProbabilityOfWait, 0.95, 1);
    }

    [Fact]
    public void ErlangA_Table_StartsAtOneAgent()
    {
        var plan = StaffingPlan.ByFormula(new StaffingLoad(200, 180, 20, PatienceSeconds: 120), 0.8);

        Assert.Equal(1, plan.Table[0].Agents);
        Assert.Equal(plan.AgentsNeeded + StaffingPlan.RowsBeyondNeeded, plan.Table[^1].Agents);
        Assert.True(plan.Predicted.ServiceLevel >= 0.8);
        Assert.True(plan.Table.Single(r => r.Agents == plan.AgentsNeeded - 1).ServiceLevel < 0.8);
    }

    private static (double PWait, double Queue) BirthDeath(double lambda, double mu, double theta, int agents)
    {
        // Logarithms of the unnormalised probabilities, so large numbers of agents do not overflow.
        var logs = new List<double> { 0 };
        for (var n = 1; ; n++)
        {
            var death = (Math.Min(n, agents) * mu) + (Math.Max(n - agents, 0) * theta);
            logs.Add(logs[^1] + Math.Log(lambda / death));
            if (n > agents && logs[^1] < logs.Max() - 60)
            {
                break;
            }
        }

        var max = logs.Max();
        var p = logs.Select(l => Math.Exp(l - max)).ToList();
        var total = p.Sum();
        var pWait = p.Skip(agents).Sum() / total;
        var queue = p.Select((x, n) => x * Math.Max(n - agents, 0)).Sum() / total;
        return (pWait, queue);
    }

    /// <summary>Erlang C from its textbook form, P0 = [Σ_{k&lt;N} A^k/k! + A^N/N! · N/(N−A)]^−1, with the terms as
    /// logarithms (log-gamma) instead of the Erlang B recursion the product uses.</summary>
    private static class IndependentErlangC
    {
        public static (double PWait, double ServiceLevel) Figures(double a, int n, double aht, double threshold)
        {
            var logTerms = Enumerable.Range(0, n).Select(k => LogTerm(a, k)).ToList();
            var logLast = LogTerm(a, n) + Math.Log(n / (n - a));
            var max = Math.Max(logTerms.Max(), logLast);
            var sum = logTerms.Sum(l => Math.Exp(l - max)) + Math.Exp(logLast - max);
            var pWait = Math.Exp(logLast - max) / sum;
            return (pWait, 1 - (pWait * Math.Exp(-(n - a) * threshold / aht)));
        }

        public static int AgentsNeeded(double a, double aht, double threshold, double target)
        {
            var n = (int)Math.Floor(a) + 1;
            while (Figures(a, n, aht, threshold).ServiceLevel < target)
            {
                n++;
            }

            return n;
        }

        private static double LogTerm(double a, int k) => (k * Math.Log(a)) - LogFactorial(k);

        private static double LogFactorial(int k)
        {
            var sum = 0.0;
            for (var i = 2; i <= k; i++)
            {
                sum += Math.Log(i);
            }

            return sum;
        }
    }
}
