using RoutingCluster.Routing.Staffing;
using RoutingCluster.Routing.VirtualTime;
using Xunit.Abstractions;

namespace RoutingCluster.Simulator.Tests;

/// <summary>
/// The staffing what-if's formulas held to the queueing oracles of these tests (computed another way: Erlang A from
/// its birth–death chain, its service level by uniformisation), and its simulation method held to its formula on a
/// plain queue, within the tolerances of <see cref="SimulatorAgainstTheoryTests"/> (±0.01 on rates, ±3% on ASA).
/// </summary>
public class StaffingAgainstTheoryTests(ITestOutputHelper output)
{
    /// <summary>λ per second, AHT, threshold, agents: a small, a middling and a busy queue.</summary>
    public static TheoryData<double, double, double, int> ErlangCSets => new()
    {
        { 0.1, 60, 20, 8 },
        { 200.0 / 3600, 180, 20, 14 },
        { 0.5, 240, 30, 130 },
    };

    [Theory]
    [MemberData(nameof(ErlangCSets))]
    public void ErlangC_MatchesTheOracle(double lambda, double aht, double threshold, int agents)
    {
        var oracle = QueueingOracles.ErlangC(lambda, aht, agents, threshold);

        var p = ErlangC.Predict(new StaffingLoad(lambda * 3600, aht, threshold), agents);

        Assert.Equal(oracle.PWait, p.ProbabilityOfWait, 10);
        Assert.Equal(oracle.ServiceLevelAt, p.ServiceLevel, 10);
        Assert.Equal(oracle.AsaSeconds, p.AverageSpeedOfAnswerSeconds, 8);
        Assert.Equal(oracle.Occupancy, p.Occupancy, 10);
    }

    /// <summary>λ per second, AHT, patience, agents, threshold.</summary>
    public static TheoryData<double, double, double, int, double> ErlangASets => new()
    {
        { 0.1, 60, 120, 6, 20 },
        { 0.1, 60, 30, 4, 20 },
        { 200.0 / 3600, 180, 300, 10, 20 },
        { 200.0 / 3600, 180, 60, 12, 30 },
        { 1.0, 120, 180, 110, 15 },
    };

    [Theory]
    [MemberData(nameof(ErlangASets))]
    public void ErlangA_MatchesTheOracle(double lambda, double aht, double patience, int agents, double threshold)
    {
        var oracle = QueueingOracles.ErlangA(lambda, aht, patience, agents, threshold);

        var p = ErlangA.Predict(new StaffingLoad(lambda * 3600, aht, threshold, patience), agents);
        output.WriteLine($"N={agents}: P(wait) {p.ProbabilityOfWait:F6}/{oracle.PWait:F6}, abandon {p.AbandonRate:F6}/{oracle.PAbandon:F6}, SL {p.ServiceLevel:F6}/{oracle.ServiceLevel:F6}, ASA {p.AverageSpeedOfAnswerSeconds:F4}/{oracle.AsaAnsweredSeconds:F4}");

        Assert.Equal(oracle.PWait, p.ProbabilityOfWait, 5);
        Assert.Equal(oracle.PAbandon, p.AbandonRate, 5);
        Assert.Equal(oracle.ServiceLevel, p.ServiceLevel, 4);
        Assert.Equal(oracle.AsaAnsweredSeconds, p.AverageSpeedOfAnswerSeconds, oracle.AsaAnsweredSeconds * 1e-3);
    }

    [Fact]
    public void SimulationMethod_OnAPlainQueue_AgreesWithTheFormula()
    {
        // The queue of the simulator's Erlang C theory test: 360 arrivals an hour, AHT 60 s (6 Erlangs), 80% within
        // 20 s: Erlang C needs 8 agents (SL 0.817; 7 give 0.560).
        var load = new StaffingLoad(360, 60, 20);
        var formula = StaffingPlan.ByFormula(load, 0.8);

        var simulated = StaffingPlan.Search(load, 0.8, n =>
        {
            var r = Simulation.Run(new SimulationOptions
            {
                Agents = n, ArrivalsPerSecond = load.ArrivalsPerSecond, AhtSeconds = load.AhtSeconds,
                ServiceLevelSeconds = load.ThresholdSeconds, Sessions = 400_000, Seed = 1,
            });
            return new StaffingPrediction(n, r.ServiceLevel, r.ProbabilityOfWait, r.AsaSeconds, r.Occupancy, r.AbandonRate);
        });

        Assert.Equal(formula.AgentsNeeded, simulated.AgentsNeeded);
        Assert.Equal(formula.Table.Select(r => r.Agents), simulated.Table.Select(r => r.Agents));
        foreach (var (f, s) in formula.Table.Zip(simulated.Table))
        {
            output.WriteLine($"N={f.Agents}: SL {s.ServiceLevel:F4}/{f.ServiceLevel:F4}, P(wait) {s.ProbabilityOfWait:F4}/{f.ProbabilityOfWait:F4}, ASA {s.AverageSpeedOfAnswerSeconds:F2}/{f.AverageSpeedOfAnswerSeconds:F2}");
            Assert.InRange(s.ServiceLevel, f.ServiceLevel - 0.01, f.ServiceLevel + 0.01);
            Assert.InRange(s.ProbabilityOfWait, f.ProbabilityOfWait - 0.01, f.ProbabilityOfWait + 0.01);
            Assert.InRange(s.Occupancy, f.Occupancy - 0.01, f.Occupancy + 0.01);
        }

        // ASA within 3% needs a long run, as in the theory tests: at the number of agents needed, 2 million customers.
        var needed = Simulation.Run(new SimulationOptions
        {
            Agents = formula.AgentsNeeded, ArrivalsPerSecond = load.ArrivalsPerSecond, AhtSeconds = load.AhtSeconds,
            ServiceLevelSeconds = load.ThresholdSeconds, Sessions = 2_000_000, Seed = 1,
        });
        var asa = formula.Predicted.AverageSpeedOfAnswerSeconds;
        output.WriteLine($"N={formula.AgentsNeeded}, 2M customers: ASA {needed.AsaSeconds:F3}/{asa:F3} ± {needed.Segments["ordinary"].MeanWaitCi95Seconds:F3}");
        Assert.True(needed.Segments["ordinary"].MeanWaitCi95Seconds < asa * 0.03, "run too short for a 3% ASA check");
        Assert.InRange(needed.AsaSeconds, asa * 0.97, asa * 1.03);
        Assert.InRange(needed.ServiceLevel, formula.Predicted.ServiceLevel - 0.01, formula.Predicted.ServiceLevel + 0.01);
    }
}
