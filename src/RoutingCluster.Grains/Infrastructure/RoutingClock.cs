namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// The time the routing runs on: <see cref="TimeProvider.System"/> in production, a fake one in tests and
/// the simulator. It is kept apart from the <see cref="TimeProvider"/> the Orleans runtime itself uses, so
/// moving routing time forward in a test never times out the runtime's own messages.
/// </summary>
public sealed class RoutingClock(TimeProvider time)
{
    public TimeProvider Time { get; } = time;

    public DateTimeOffset Now => Time.GetUtcNow();
}
