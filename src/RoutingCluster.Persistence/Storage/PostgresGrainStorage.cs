using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Persistence.Storage;

/// <summary>Settings of one <see cref="PostgresGrainStorage"/>, named after the storage.</summary>
public sealed class PostgresGrainStorageOptions
{
    /// <summary>The Npgsql connection string of the database that holds <c>routing_grain_state</c>.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>How states are turned into the <c>payload</c> column; <see langword="null"/> means Orleans' binary
    /// serializer (<see cref="OrleansGrainStorageSerializer"/>).</summary>
    public IGrainStorageSerializer? Serializer { get; set; }

    /// <summary>Whether clearing a state removes its row (otherwise the row stays with no payload), as the ADO.NET
    /// provider's option of the same name.</summary>
    public bool DeleteStateOnClear { get; set; }
}

/// <summary>
/// Grain storage on <c>routing_grain_state</c> (migration 0003), row for row what Orleans' ADO.NET storage keeps there
/// (<see cref="GrainStateRow"/>: the same identity, payload and integer ETag), with writes and clears sent through the
/// silo's <see cref="PostgresWriteBatcher"/>: the states written by many grains in the same few milliseconds commit in
/// one transaction, and each write completes only when its transaction has committed.
/// </summary>
/// <remarks>
/// <para>ETags behave as the ADO.NET storage's: a write at a stale version, a create (no ETag) over an existing row, or a
/// clear at a stale version raises <see cref="InconsistentStateException"/>, for that grain alone whatever else its
/// batch carried. A write that fails for any other reason is raised the same way with the error inside
/// (<see cref="WriteFailures"/>), so Orleans resets the activation. A failed read fails the activation.</para>
/// <para>A grain created under a key nobody has used (<see cref="FreshGrainKey"/>) is not read: no row can exist.</para>
/// </remarks>
internal sealed class PostgresGrainStorage(
    string name,
    string serviceId,
    PostgresGrainStorageOptions options,
    IGrainStorageSerializer serializer,
    PostgresWriteBatcher batcher,
    IActivatorProvider activators,
    ILogger<PostgresGrainStorage> logger) : IGrainStorage
{
    private readonly string _connectionString = options.ConnectionString;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (FreshGrainKey.IsFresh(grainId))
        {
            Empty(grainState);
            return;
        }

        byte[]? payload = null;
        int? version = null;
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = new NpgsqlCommand(GrainStateRow.Read, connection);
            GrainStateRow.AddIdentity(command.Parameters, serviceId, stateName, grainId);
            await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            if (await reader.ReadAsync().ConfigureAwait(false))
            {
                version = reader.GetInt32(0);
                payload = await reader.IsDBNullAsync(1).ConfigureAwait(false) ? null : reader.GetFieldValue<byte[]>(1);
            }
        }
        catch (NpgsqlException exception)
        {
            logger.GrainStorageFailed(exception, name, "read", stateName, grainId);
            throw;
        }

        // A cleared row (payload NULL) still has a version: the next write must name it.
        grainState.State = payload is null ? New<T>() : serializer.Deserialize<T>(new BinaryData(payload)) ?? New<T>();
        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = version is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var etag = grainState.ETag;
        var expected = Version(etag);
        var payload = serializer.Serialize(grainState.State).ToArray();
        int? written;
        try
        {
            written = await batcher.ExecuteAsync(GrainStateRow.Write, p =>
            {
                GrainStateRow.AddIdentity(p, serviceId, stateName, grainId);
                GrainStateRow.AddExpected(p, expected);
                GrainStateRow.AddPayload(p, payload);
            }).ConfigureAwait(false);
        }
        catch (Exception exception) when (WriteFailures.LeavesStateUnknown(exception))
        {
            logger.GrainStorageFailed(exception, name, "write", stateName, grainId);
            throw WriteFailures.StateUnknown(name, "write", grainId, etag, exception);
        }

        if (written is null)
        {
            throw Conflict("write", stateName, grainId, etag);
        }

        grainState.ETag = written.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // As the ADO.NET storage does: a state never read or written learns the stored version first.
        if (!grainState.RecordExists && string.IsNullOrWhiteSpace(grainState.ETag))
        {
            await ReadStateAsync(stateName, grainId, grainState).ConfigureAwait(false);
            if (!grainState.RecordExists)
            {
                return;
            }
        }

        var etag = grainState.ETag;
        var expected = Version(etag);
        int? cleared;
        try
        {
            cleared = await batcher.ExecuteAsync(options.DeleteStateOnClear ? GrainStateRow.Delete : GrainStateRow.Clear, p =>
            {
                GrainStateRow.AddIdentity(p, serviceId, stateName, grainId);
                GrainStateRow.AddExpected(p, expected);
            }).ConfigureAwait(false);
        }
        catch (Exception exception) when (WriteFailures.LeavesStateUnknown(exception))
        {
            logger.GrainStorageFailed(exception, name, "clear", stateName, grainId);
            throw WriteFailures.StateUnknown(name, "clear", grainId, etag, exception);
        }

        if (cleared is null)
        {
            throw Conflict("clear", stateName, grainId, etag);
        }

        // Kept row: its new version is the ETag of the next write. Deleted row: the next write creates it again.
        grainState.ETag = options.DeleteStateOnClear ? null : cleared.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = false;
        grainState.State = New<T>();
    }

    private void Empty<T>(IGrainState<T> grainState)
    {
        grainState.State = New<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static int? Version(string? etag) =>
        string.IsNullOrWhiteSpace(etag) ? null : int.Parse(etag, NumberStyles.None, CultureInfo.InvariantCulture);

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? etag)
    {
        logger.GrainStateVersionConflict(name, operation, stateName, grainId, etag);
        return new InconsistentStateException(
            $"Version conflict ({operation}): grain storage '{name}', {stateName} of {grainId}, ETag {etag ?? "(none: create)"}. " +
            "Another activation wrote or cleared this state meanwhile.",
            storedEtag: null,
            currentEtag: etag,
            storageException: null);
    }

    private T New<T>() => activators.GetActivator<T>().Create();
}
