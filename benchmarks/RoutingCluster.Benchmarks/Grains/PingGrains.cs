namespace RoutingCluster.Benchmarks.Grains;

/// <summary>The ceiling: a grain call that does nothing. What a routing call costs beyond this is the routing.</summary>
[Alias("bench.ping")]
public interface IPingGrain : IGrainWithIntegerKey
{
    [Alias("ping")]
    Task PingAsync();
}

/// <summary>Calls a ping grain from inside a grain (grain-to-grain, as the routing grains call each other).</summary>
[Alias("bench.ping-caller")]
public interface IPingCallerGrain : IGrainWithIntegerKey
{
    /// <summary>Pings grain <paramref name="target"/> <paramref name="count"/> times, one after the other.</summary>
    [Alias("call")]
    Task CallAsync(long target, int count);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public Task PingAsync() => Task.CompletedTask;
}

public sealed class PingCallerGrain : Grain, IPingCallerGrain
{
    public async Task CallAsync(long target, int count)
    {
        var ping = GrainFactory.GetGrain<IPingGrain>(target);
        for (var i = 0; i < count; i++)
        {
            await ping.PingAsync();
        }
    }
}
