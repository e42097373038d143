using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.VirtualTime;
using Xunit.Abstractions;

namespace RoutingCluster.Simulator.Tests;

/// <summary>The simulator (running the real WaitingList and AgentRoster) held to queueing theory at fixed seeds,
/// within the routing design's tolerances. Each test also checks that the batch-means 95% half-width of the simulated mean
/// wait is inside the tolerance, so a pass is not luck of the seed.</summary>
public class SimulatorAgainstTheoryTests(ITestOutputHelper output)
{
    [Fact]
    public void One_skill_without_abandonment_matches_erlang_c()
    {
        // λ = 0.1/s, AHT = 60 s, c = 8 (A = 6, occupancy 0.75); 1.8 million sessions after a 10% warm-up.
        var oracle = QueueingOracles.ErlangC(0.1, 60, 8);
        var r = Simulation.Run(new SimulationOptions { Agents = 8, ArrivalsPerSecond = 0.1, AhtSeconds = 60, Sessions = 2_000_000, Seed = 1 });
        Report("Erlang C", r);

        Assert.True(r.Sessions >= 400_000);
        Assert.Equal(r.Sessions, r.Answered);
        Assert.InRange(r.ProbabilityOfWait, oracle.PWait - 0.01, oracle.PWait + 0.01);
        Assert.InRange(r.ServiceLevel, oracle.ServiceLevelAt - 0.01, oracle.ServiceLevelAt + 0.01);
        Assert.InRange(r.AsaSeconds, oracle.AsaSeconds * 0.97, oracle.AsaSeconds * 1.03);
        Assert.True(r.Segments["ordinary"].MeanWaitCi95Seconds < oracle.AsaSeconds * 0.03, "run too short for a 3% ASA check");
        Assert.InRange(r.Occupancy, oracle.Occupancy - 0.01, oracle.Occupancy + 0.01);
    }

    [Fact]
    public void Two_classes_with_strict_elderly_head_start_match_cobham()
    {
        // c = 10, AHT = 120 s, ρ = 0.9, 20% elderly: λ1 = 0.015/s, λ2 = 0.060/s.
        var oracle = QueueingOracles.Cobham(0.015, 0.060, 120, 10);
        var r = Simulation.Run(new SimulationOptions
        {
            Agents = 10, ArrivalsPerSecond = 0.075, AhtSeconds = 120, Sessions = 2_000_000, Seed = 1,
            ElderlyShare = 0.2, ElderlyHeadStart = HeadStart.Strict,
        });
        Report("Cobham", r);

        var elderly = r.Segments["elderly"];
        var ordinary = r.Segments["ordinary"];
        Assert.InRange(elderly.MeanWaitSeconds, oracle.HighMeanWait * 0.95, oracle.HighMeanWait * 1.05);
        Assert.InRange(ordinary.MeanWaitSeconds, oracle.LowMeanWait * 0.95, oracle.LowMeanWait * 1.05);
        Assert.True(elderly.MeanWaitCi95Seconds < oracle.HighMeanWait * 0.05, "run too short for a 5% check (elderly)");
        Assert.True(ordinary.MeanWaitCi95Seconds < oracle.LowMeanWait * 0.05, "run too short for a 5% check (ordinary)");

        // Non-preemptive priority changes who waits longest, not who waits at all.
        Assert.InRange(elderly.ProbabilityOfWait - ordinary.ProbabilityOfWait, -0.01, 0.01);
        Assert.InRange(elderly.ProbabilityOfWait, oracle.PWait - 0.01, oracle.PWait + 0.01);
        Assert.InRange(ordinary.ProbabilityOfWait, oracle.PWait - 0.01, oracle.PWait + 0.01);
    }

    [Fact]
    public void Exponential_patience_matches_erlang_a()
    {
        // λ = 0.1/s, AHT = 60 s, mean patience 120 s, c = 6.
        var oracle = QueueingOracles.ErlangA(0.1, 60, 120, 6);
        var r = Simulation.Run(new SimulationOptions
        {
            Agents = 6, ArrivalsPerSecond = 0.1, AhtSeconds = 60, Sessions = 1_000_000, Seed = 1, PatienceSeconds = 120,
        });
        Report("Erlang A", r);

        Assert.Equal(r.Sessions, r.Answered + r.Abandoned);
        Assert.InRange(r.AbandonRate, oracle.PAbandon - 0.01, oracle.PAbandon + 0.01);
        Assert.InRange(r.ServiceLevel, oracle.ServiceLevel - 0.01, oracle.ServiceLevel + 0.01);
        Assert.InRange(r.ProbabilityOfWait, oracle.PWait - 0.01, oracle.PWait + 0.01);
    }

    [Theory]
    [InlineData(0.80)]
    [InlineData(0.90)]
    [InlineData(0.95)]
    [InlineData(0.98)]
    public void Finite_head_start_never_lets_a_session_overtake_by_more_than_h(double load)
    {
        const double h = 60;
        var r = Simulation.Run(new SimulationOptions
        {
            Agents = 10, ArrivalsPerSecond = load * 10 / 120, AhtSeconds = 120, Sessions = 200_000, Seed = 7,
            ElderlyShare = 0.3, ElderlyHeadStart = HeadStart.OfSeconds(h),
        });
        Report($"head start 60 s, load {load}", r);

        Assert.Equal(0, r.OvertakingsBeyondHeadStart);
        Assert.InRange(r.MaxOvertakeSeconds, 0, h);
        // Not vacuous: elderly sessions did overtake ordinary ones, and by close to H.
        Assert.True(r.MaxOvertakeSeconds > h * 0.9, $"max overtake {r.MaxOvertakeSeconds}");
        Assert.True(r.Segments["elderly"].MeanWaitSeconds < r.Segments["ordinary"].MeanWaitSeconds);
    }

    [Fact]
    public void Same_seed_same_result()
    {
        var o = new SimulationOptions { Sessions = 20_000, Seed = 42, ElderlyShare = 0.2, PatienceSeconds = 90 };
        Assert.Equal(Simulation.Run(o).AsaSeconds, Simulation.Run(o).AsaSeconds);
        Assert.NotEqual(Simulation.Run(o).AsaSeconds, Simulation.Run(o with { Seed = 43 }).AsaSeconds);
    }

    private void Report(string name, SimulationResult r)
    {
        output.WriteLine($"{name}: sessions {r.Sessions}, P(wait) {r.ProbabilityOfWait:F6}, SL20 {r.ServiceLevel:F6}, ASA {r.AsaSeconds:F4}, " +
            $"abandon {r.AbandonRate:F6}, occupancy {r.Occupancy:F4}, overtakings>H {r.OvertakingsBeyondHeadStart}, max overtake {r.MaxOvertakeSeconds:F2}");
        foreach (var (segment, s) in r.Segments)
        {
            output.WriteLine($"  {segment}: mean wait {s.MeanWaitSeconds:F4} ± {s.MeanWaitCi95Seconds:F4}, P(wait) {s.ProbabilityOfWait:F6}");
        }
    }
}
