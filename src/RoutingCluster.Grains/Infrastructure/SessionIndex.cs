namespace RoutingCluster.Grains.Infrastructure;

/// <summary>What a silo must wake after the cluster restarts: queues that hold waiting sessions, and agents that
/// hold an offer or a wrap-up (they own timers).</summary>
public sealed record RecoveryPlan(IReadOnlyList<string> Queues, IReadOnlyList<string> Agents)
{
    public static RecoveryPlan Empty { get; } = new([], []);
}

/// <summary>
/// Finds sessions by what they are waiting for, from the durable session records. A queue keeps its waiting
/// list in memory (a sorted structure, rebuilt on activation from here), so no write per enqueue is needed
/// beyond the session's own.
/// </summary>
public interface ISessionIndex
{
    /// <summary>Ids of the sessions queued in <paramref name="queueId"/>, longest waiting first.</summary>
    Task<IReadOnlyList<string>> QueuedSessionsAsync(string queueId, CancellationToken cancellationToken = default);

    Task<RecoveryPlan> RecoveryPlanAsync(CancellationToken cancellationToken = default);
}

/// <summary>The index of a cluster whose storage does not survive a restart (memory storage): nothing to recover.</summary>
public sealed class NoSessionIndex : ISessionIndex
{
    public Task<IReadOnlyList<string>> QueuedSessionsAsync(string queueId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    public Task<RecoveryPlan> RecoveryPlanAsync(CancellationToken cancellationToken = default) => Task.FromResult(RecoveryPlan.Empty);
}
