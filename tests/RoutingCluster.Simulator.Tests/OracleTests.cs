namespace RoutingCluster.Simulator.Tests;

/// <summary>The oracle code against worked examples of the queueing formulas.</summary>
public class OracleTests
{
    [Theory]
    [InlineData(0.1, 60, 8, 0.356981, 10.7094, 0.816720, 0.7500)]
    [InlineData(1.0, 180, 200, 0.094471, 0.8502, 0.989762, 0.9000)]
    [InlineData(2.0, 300, 620, 0.311944, 4.6792, 0.917772, 0.9677)]
    public void Erlang_c_matches_the_table(double lambda, double aht, int c, double pWait, double asa, double sl20, double occupancy)
    {
        var f = QueueingOracles.ErlangC(lambda, aht, c);
        Assert.Equal(pWait, f.PWait, 6);
        Assert.Equal(asa, f.AsaSeconds, 4);
        Assert.Equal(sl20, f.ServiceLevelAt, 6);
        Assert.Equal(occupancy, f.Occupancy, 4);
    }

    [Fact]
    public void Cobham_matches_the_worked_example()
    {
        var f = QueueingOracles.Cobham(0.015, 0.060, 120, 10);
        Assert.Equal(0.668732, f.PWait, 6);
        Assert.Equal(9.7863, f.HighMeanWait, 4);
        Assert.Equal(97.8631, f.LowMeanWait, 4);
        Assert.Equal(80.2478, f.OverallMeanWait, 4);
        Assert.Equal(QueueingOracles.ErlangC(0.075, 120, 10).AsaSeconds, f.OverallMeanWait, 9);
    }

    [Fact]
    public void Erlang_a_matches_the_worked_example()
    {
        var f = QueueingOracles.ErlangA(0.1, 60, 120, 6);
        Assert.Equal(0.629167, f.PWait, 6);
        Assert.Equal(0.133648, f.PAbandon, 6);
        Assert.Equal(15.1903, f.AsaAnsweredSeconds, 4);
        // The "P(answered within 20 s)" is per offered (abandoned included), as the KPI service level.
        Assert.Equal(0.605023, f.ServiceLevel, 6);
    }

    [Fact]
    public void Erlang_a_with_patience_equal_to_aht_is_poisson()
    {
        const double a = 7.5;
        var pi = QueueingOracles.ErlangADistribution(0.125, 60, 60, 6);
        var poisson = Math.Exp(-a);
        for (var n = 0; n < 40; n++)
        {
            Assert.Equal(poisson, pi[n], 12);
            poisson *= a / (n + 1);
        }
    }
}
