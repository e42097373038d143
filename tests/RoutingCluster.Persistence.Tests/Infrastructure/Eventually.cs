namespace RoutingCluster.Persistence.Tests.Infrastructure;

/// <summary>Bounded polling: for conditions that have no event to await.</summary>
public static class Eventually
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>Polls <paramref name="probe"/> until it returns a value that satisfies <paramref name="done"/>,
    /// and fails with <paramref name="what"/> and the last value when <paramref name="within"/> runs out.</summary>
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan within, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + within;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (TimeProvider.System.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Not within {within}: {what}. Last value: {value}");
            }

            await Task.Delay(Interval);
        }
    }
}
