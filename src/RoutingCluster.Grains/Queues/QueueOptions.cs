namespace RoutingCluster.Grains.Queues;

/// <summary>Queue grain settings (configuration section <c>Queues</c>).</summary>
public sealed class QueueOptions
{
    /// <summary>How often waiting sessions are told their position and estimated wait (0: never).</summary>
    public TimeSpan PositionUpdateInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Position updates go to at most this many sessions per channel (the front of the queue), so a
    /// queue with 100,000 waiting does not flood its streams.</summary>
    public int PositionUpdateLimit { get; set; } = 500;

    /// <summary>
    /// How often a queue compares its waiting list with the durable session records (PostgreSQL storage; 0: never).
    /// A session whose record says it waits here, but which the queue held neither waiting nor on offer at two
    /// comparisons in a row, is taken back at its original place: whatever fault lost it (a silo killed between two
    /// grains' steps), it waits at most about twice this long unseen, instead of forever.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);
}
