namespace RoutingCluster.Persistence.Storage;

/// <summary>
/// How grain-state writes are gathered into one PostgreSQL transaction (<see cref="PostgresWriteBatcher"/>): one set
/// per silo, shared by the <c>"routing"</c> and <c>"sessions"</c> storages on the same database.
/// </summary>
public sealed class PostgresGroupCommitOptions
{
    /// <summary>
    /// How long the first write of a batch waits for others before the batch is sent (default 2 ms). Writes that
    /// arrive while a batch is being committed go into the next one whatever this is, so <see cref="TimeSpan.Zero"/>
    /// still groups under load; a window makes the batches larger (fewer commits, less CPU in PostgreSQL) for at most
    /// that much more latency per write.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The most writes one transaction carries (default 256); the rest go into the next.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>The clock the window is measured on (the system clock unless a test moves time itself).</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
