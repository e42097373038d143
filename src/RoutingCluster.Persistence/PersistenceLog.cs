using Microsoft.Extensions.Logging;

namespace RoutingCluster.Persistence;

internal static partial class PersistenceLog
{
    [LoggerMessage(EventId = LogEventIds.SchemaUpToDate, Level = LogLevel.Debug, Message = "PostgreSQL schema is at version {Version} (this build: {LatestVersion}): nothing to migrate")]
    public static partial void SchemaUpToDate(this ILogger logger, int version, int latestVersion);

    [LoggerMessage(EventId = LogEventIds.MigrationApplied, Level = LogLevel.Information, Message = "Applied PostgreSQL migration {Version} ({Name}) in {ElapsedMs:F0} ms")]
    public static partial void MigrationApplied(this ILogger logger, int version, string name, double elapsedMs);

    [LoggerMessage(EventId = LogEventIds.MigrationChanged, Level = LogLevel.Warning, Message = "PostgreSQL migration {Version} ({Name}) differs from the one applied to this database: applied migrations are never re-run, add a new one instead")]
    public static partial void MigrationChanged(this ILogger logger, int version, string name);

    [LoggerMessage(EventId = LogEventIds.SchemaNewerThanBuild, Level = LogLevel.Warning, Message = "PostgreSQL schema is at version {Version}, newer than this build's {LatestVersion}: a newer build has migrated it")]
    public static partial void SchemaNewerThanBuild(this ILogger logger, int version, int latestVersion);

    [LoggerMessage(EventId = LogEventIds.DatabaseNotReachable, Level = LogLevel.Warning, Message = "PostgreSQL at {Endpoint} is not reachable yet ({Reason}); retrying until {Deadline:O}")]
    public static partial void DatabaseNotReachable(this ILogger logger, string endpoint, string reason, DateTimeOffset deadline);

    [LoggerMessage(EventId = LogEventIds.SchemaReady, Level = LogLevel.Information, Message = "PostgreSQL schema at {Endpoint} is ready (version {Version}) after {ElapsedMs:F0} ms")]
    public static partial void SchemaReady(this ILogger logger, string endpoint, int version, double elapsedMs);

    [LoggerMessage(EventId = LogEventIds.SessionVersionConflict, Level = LogLevel.Warning, Message = "Grain storage {StorageName}: version conflict on {Operation} of session {SessionId} (ETag {ETag}); the activation will be reset from the stored state")]
    public static partial void SessionVersionConflict(this ILogger logger, string storageName, string operation, string sessionId, string? etag);

    [LoggerMessage(EventId = LogEventIds.SessionStorageFailed, Level = LogLevel.Error, Message = "Grain storage {StorageName}: {Operation} of session {SessionId} failed")]
    public static partial void SessionStorageFailed(this ILogger logger, Exception exception, string storageName, string operation, string sessionId);

    [LoggerMessage(EventId = LogEventIds.SessionIndexFailed, Level = LogLevel.Error, Message = "Session index: {Query} failed")]
    public static partial void SessionIndexFailed(this ILogger logger, Exception exception, string query);

    [LoggerMessage(EventId = LogEventIds.StatsStoreFailed, Level = LogLevel.Warning, Message = "Statistics store: {Operation} of {GrainKey} failed")]
    public static partial void StatsStoreFailed(this ILogger logger, Exception exception, string operation, string grainKey);

    [LoggerMessage(EventId = LogEventIds.WriteBatchRefused, Level = LogLevel.Warning, Message = "Grain storage: PostgreSQL refused a batch of {Count} writes (SQLSTATE {SqlState}); nothing of it was stored, each write is tried again alone")]
    public static partial void WriteBatchRefused(this ILogger logger, Exception exception, int count, string sqlState);

    [LoggerMessage(EventId = LogEventIds.WriteBatchFailed, Level = LogLevel.Error, Message = "Grain storage: a batch of {Count} writes failed; each of its grains is reset from the stored state")]
    public static partial void WriteBatchFailed(this ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = LogEventIds.GrainStorageFailed, Level = LogLevel.Error, Message = "Grain storage {StorageName}: {Operation} of {StateName} {GrainId} failed")]
    public static partial void GrainStorageFailed(this ILogger logger, Exception exception, string storageName, string operation, string stateName, GrainId grainId);

    [LoggerMessage(EventId = LogEventIds.GrainStateVersionConflict, Level = LogLevel.Warning, Message = "Grain storage {StorageName}: version conflict on {Operation} of {StateName} {GrainId} (ETag {ETag}); the activation will be reset from the stored state")]
    public static partial void GrainStateVersionConflict(this ILogger logger, string storageName, string operation, string stateName, GrainId grainId, string? etag);

    [LoggerMessage(EventId = LogEventIds.AuditWriteFailed, Level = LogLevel.Error, Message = "Audit log: a {Action} record could not be written")]
    public static partial void AuditWriteFailed(this ILogger logger, Exception exception, string action);
}
