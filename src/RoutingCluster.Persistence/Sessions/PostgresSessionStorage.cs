using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Persistence.Storage;

namespace RoutingCluster.Persistence.Sessions;

/// <summary>
/// Grain storage for session grains on PostgreSQL: one <c>routing_session</c> row per session (migration 0005),
/// holding the state serialized with Orleans' serializer and, written by the same statement, the columns the
/// state exposes through <see cref="ISessionRecordColumns"/> (queue, state, channel, segments, agent, times,
/// history). Recovery (<see cref="PostgresSessionIndex"/>) and analysts query those columns.
/// </summary>
/// <remarks>
/// <para>
/// Concurrency is optimistic, as with Orleans' ADO.NET storage: the ETag is the row's integer version. A write
/// at a stale version, a create (no ETag) over an existing row, or a clear at a stale version raises
/// <see cref="InconsistentStateException"/>; Orleans then deactivates the grain, and its next activation reads
/// what is stored. A write or clear that fails for any other reason (database unreachable, connection lost,
/// timeout) is raised the same way, with the database's error inside: the state the grain holds in memory is not
/// the stored one any more, so the activation must not live on (<see cref="WriteFailures"/>).
/// </para>
/// <para>
/// The row is keyed by the grain key alone: only session grains (state <c>session</c>) may use this storage, and
/// a state that does not implement <see cref="ISessionRecordColumns"/> is refused at its first write.
/// </para>
/// </remarks>
public sealed class PostgresSessionStorage : IGrainStorage
{
    private readonly string _name;
    private readonly string _connectionString;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly ILogger<PostgresSessionStorage> _logger;
    private readonly PostgresWriteBatcher? _batcher;
    private readonly PostgresSessionReader? _reader;

    /// <summary>A storage that commits each write on its own.</summary>
    public PostgresSessionStorage(string name, PostgresSessionStorageOptions options, IGrainStorageSerializer serializer,
        IActivatorProvider activators, ILogger<PostgresSessionStorage> logger)
        : this(name, options, serializer, activators, logger, batcher: null, reader: null)
    {
    }

    /// <summary>A storage whose writes and clears go through the silo's group commit (<see cref="PostgresWriteBatcher"/>)
    /// and whose reads are gathered with those of other activations (<see cref="PostgresSessionReader"/>).</summary>
    internal PostgresSessionStorage(string name, PostgresSessionStorageOptions options, IGrainStorageSerializer serializer,
        IActivatorProvider activators, ILogger<PostgresSessionStorage> logger, PostgresWriteBatcher? batcher, PostgresSessionReader? reader)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ConnectionString);
        _name = name;
        _connectionString = options.ConnectionString;
        _serializer = options.Serializer ?? serializer;
        _activators = activators;
        _logger = logger;
        _batcher = batcher;
        _reader = reader;
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var id = Key(grainId);
        byte[]? payload = null;
        int? version = null;
        if (FreshGrainKey.IsFresh(grainId))
        {
            // A session id the gateway has just generated: no row can exist, so there is nothing to read.
            grainState.State = New<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        try
        {
            if (_reader is not null)
            {
                if (await _reader.ReadAsync(id, cancellationToken).ConfigureAwait(false) is { } row)
                {
                    (version, payload) = (row.Version, row.Payload);
                }
            }
            else
            {
                await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var command = new NpgsqlCommand(SessionRow.Read, connection);
                SessionRow.AddId(command.Parameters, id);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    version = reader.GetInt32(0);
                    payload = reader.GetFieldValue<byte[]>(1);
                }
            }
        }
        catch (NpgsqlException exception)
        {
            _logger.SessionStorageFailed(exception, _name, "read", id);
            throw;
        }

        grainState.State = payload is null ? New<T>() : _serializer.Deserialize<T>(new BinaryData(payload)) ?? New<T>();
        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = payload is not null;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var id = Key(grainId);
        if (grainState.State is not ISessionRecordColumns record)
        {
            throw new InvalidOperationException(
                $"Grain storage '{_name}' keeps session records only: the state '{stateName}' of {grainId} is a " +
                $"{typeof(T).FullName}, which does not implement {nameof(ISessionRecordColumns)}.");
        }

        var expected = Version(grainState.ETag);
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var columns = record.GetColumns();
        int? written;
        try
        {
            written = await ExecuteAsync(SessionRow.Write, p =>
            {
                SessionRow.AddId(p, id);
                SessionRow.AddExpected(p, expected);
                SessionRow.AddColumns(p, payload, columns);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (WriteFailures.LeavesStateUnknown(exception))
        {
            _logger.SessionStorageFailed(exception, _name, "write", id);
            throw WriteFailures.StateUnknown(_name, "write", grainId, grainState.ETag, exception);
        }

        if (written is null)
        {
            throw Conflict("write", id, grainState.ETag);
        }

        grainState.ETag = written.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var id = Key(grainId);

        // As Orleans' ADO.NET storage does: a state never read or written learns the stored version first, and
        // clearing what does not exist is done at once.
        if (!grainState.RecordExists && string.IsNullOrWhiteSpace(grainState.ETag))
        {
            await ReadStateAsync(stateName, grainId, grainState, cancellationToken).ConfigureAwait(false);
            if (!grainState.RecordExists)
            {
                return;
            }
        }

        int? deleted;
        var expected = Version(grainState.ETag);
        try
        {
            deleted = await ExecuteAsync(SessionRow.Clear, p =>
            {
                SessionRow.AddId(p, id);
                SessionRow.AddExpected(p, expected);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (WriteFailures.LeavesStateUnknown(exception))
        {
            _logger.SessionStorageFailed(exception, _name, "clear", id);
            throw WriteFailures.StateUnknown(_name, "clear", grainId, grainState.ETag, exception);
        }

        if (deleted is null)
        {
            throw Conflict("clear", id, grainState.ETag);
        }

        // The row is gone: the next write creates it again (no ETag), like the ADO.NET storage with DeleteStateOnClear.
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = New<T>();
    }

    /// <summary>The row id: the grain key (<c>s-…</c> for a session).</summary>
    internal static string Key(GrainId grainId) => grainId.Key.ToString()!;

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A write or clear: through the group commit when there is one, otherwise a statement of its own.</summary>
    private async Task<int?> ExecuteAsync(string sql, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        if (_batcher is not null)
        {
            return await _batcher.ExecuteAsync(sql, bind).ConfigureAwait(false);
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        bind(command.Parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is int version ? version : null;
    }

    private static int? Version(string? etag) =>
        string.IsNullOrWhiteSpace(etag) ? null : int.Parse(etag, NumberStyles.None, CultureInfo.InvariantCulture);

    private InconsistentStateException Conflict(string operation, string id, string? etag)
    {
        _logger.SessionVersionConflict(_name, operation, id, etag);
        return new InconsistentStateException(
            $"Version conflict ({operation}): grain storage '{_name}', session {id}, ETag {etag ?? "(none: create)"}. " +
            "Another activation wrote or cleared this session meanwhile.",
            storedEtag: null,
            currentEtag: etag,
            storageException: null);
    }

    private T New<T>() => _activators.GetActivator<T>().Create();
}
