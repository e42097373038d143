using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

public sealed class ArrivalScheduleTests
{
    [Fact]
    public void Offsets_AtAFixedSeed_HaveTheMeanGapAndCountOfAPoissonProcess()
    {
        const double rate = 100;
        const double duration = 2_000;

        var offsets = ArrivalSchedule.Offsets(rate, duration, int.MaxValue, seed: 1);

        // 200,000 expected arrivals: the count's standard deviation is sqrt(200,000) = 447 (0.22%).
        Assert.InRange(offsets.Length, 198_000, 202_000);
        var gaps = offsets.Zip(offsets.Skip(1), (a, b) => b - a).Prepend(offsets[0]).ToArray();
        var mean = gaps.Average();
        Assert.InRange(mean, 0.99 / rate, 1.01 / rate);

        // Exponential gaps: the standard deviation equals the mean (a fixed interval would have none).
        var sd = Math.Sqrt(gaps.Select(g => (g - mean) * (g - mean)).Sum() / (gaps.Length - 1));
        Assert.InRange(sd / mean, 0.98, 1.02);

        // And memoryless: about e^-1 of the gaps are longer than the mean.
        Assert.InRange(gaps.Count(g => g > 1 / rate) / (double)gaps.Length, Math.Exp(-1) - 0.01, Math.Exp(-1) + 0.01);
    }

    [Fact]
    public void Offsets_IncreaseAndStayInsideTheDuration()
    {
        var offsets = ArrivalSchedule.Offsets(50, 10, int.MaxValue, seed: 7);

        Assert.NotEmpty(offsets);
        Assert.All(offsets.Zip(offsets.Skip(1)), pair => Assert.True(pair.Second > pair.First));
        Assert.All(offsets, o => Assert.InRange(o, 0, 10 - double.Epsilon));
    }

    [Fact]
    public void Offsets_StopAtTheMaximumCount()
    {
        var offsets = ArrivalSchedule.Offsets(1_000, 60, maxArrivals: 123, seed: 1);

        Assert.Equal(123, offsets.Length);
    }

    [Fact]
    public void Offsets_WithTheSameSeed_AreTheSame_AndWithAnotherSeedDiffer()
    {
        var first = ArrivalSchedule.Offsets(20, 30, int.MaxValue, seed: 3);
        var again = ArrivalSchedule.Offsets(20, 30, int.MaxValue, seed: 3);
        var other = ArrivalSchedule.Offsets(20, 30, int.MaxValue, seed: 4);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }
}
