namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// Open-model arrivals: a Poisson process at a fixed rate, i.e. exponential times between arrivals, drawn from a
/// seeded <see cref="Random"/> so that a run can be repeated. The offsets are fixed before the run starts; each
/// session is then created at its offset from the start whether or not earlier ones were answered, so a slow
/// server does not slow the arrivals down (no coordinated omission).
/// </summary>
internal static class ArrivalSchedule
{
    /// <summary>
    /// Arrival offsets in seconds from the start, increasing, all below <paramref name="durationSeconds"/>, at most
    /// <paramref name="maxArrivals"/> of them.
    /// </summary>
    public static double[] Offsets(double ratePerSecond, double durationSeconds, int maxArrivals, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(durationSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(maxArrivals);
        var random = new Random(seed);
        var offsets = new List<double>((int)Math.Min(maxArrivals, (ratePerSecond * durationSeconds * 1.1) + 16));
        var at = 0.0;
        while (offsets.Count < maxArrivals)
        {
            at += NextExponential(random, ratePerSecond);
            if (at >= durationSeconds)
            {
                break;
            }

            offsets.Add(at);
        }

        return [.. offsets];
    }

    /// <summary>An exponential draw with the given rate (mean 1/rate), by inversion.</summary>
    public static double NextExponential(Random random, double rate)
    {
        ArgumentNullException.ThrowIfNull(random);

        // 1 - U lies in (0, 1], so the logarithm is finite.
        return -Math.Log(1.0 - random.NextDouble()) / rate;
    }
}
