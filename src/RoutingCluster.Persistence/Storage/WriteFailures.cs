using Orleans.Storage;

namespace RoutingCluster.Persistence.Storage;

/// <summary>
/// What a failed state write means for the activation that attempted it. The grain changed its state in memory
/// before writing it; when the write fails (database unreachable, connection lost mid-statement, timeout) that
/// change is not durable, and may or may not have been committed. If the activation lived on, it would answer
/// from a state the database does not have (a session shown <c>abandoned</c> that a restart brings back
/// <c>queued</c>), and its ETag might be stale. So the failure is raised as an <see cref="InconsistentStateException"/>
/// carrying the original error: Orleans then deactivates the grain, and its next activation reads the database,
/// the only truth there is.
/// </summary>
internal static class WriteFailures
{
    public static InconsistentStateException StateUnknown(string storageName, string operation, GrainId grainId, string? etag, Exception failure) =>
        new($"Grain storage '{storageName}' could not {operation} the state of {grainId} (ETag {etag ?? "none"}): " +
            $"{failure.GetType().Name}: {failure.Message} The activation is reset, so it reads the stored state again.",
            storedEtag: null,
            currentEtag: etag,
            storageException: failure);

    /// <summary>Failures that leave the written state unknown: everything but a conflict the storage already reported.</summary>
    public static bool LeavesStateUnknown(Exception exception) => exception is not InconsistentStateException;
}
