namespace RoutingCluster.Grains.Queues;

/// <summary>Queue grain settings (configuration section <c>Queues</c>).</summary>
public sealed class QueueOptions
{
    /// <summary>How often waiting sessions are told their position and estimated wait (0: never).</summary>
    public TimeSpan PositionUpdateInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Position updates go to at most this many sessions per channel (the front of the queue), so a
    /// queue with 100,000 waiting does not flood its streams.</summary>
    public int PositionUpdateLimit { get; set; } = 500;
}
