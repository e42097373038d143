using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using RoutingCluster.Persistence.Storage;

namespace RoutingCluster.Persistence.Sessions;

/// <summary>
/// Reads of <c>routing_session</c> rows for session activations, gathered: the reads that arrive while one statement
/// is in flight go to PostgreSQL together as the next one (<c>WHERE id = ANY(...)</c>), so a burst of activations (a
/// surge of creates with idempotency keys, every session of a queue coming back after a restart) costs the database
/// one statement and one transaction per round trip instead of one per session. A read never waits for company: alone,
/// it is sent at once.
/// </summary>
/// <remarks>Reads are not writes: nothing here needs to be durable, and a read that fails (the database unreachable)
/// fails every read of its statement, each of which then fails its activation as a direct read would.</remarks>
internal sealed class PostgresSessionReader : IAsyncDisposable
{
    /// <summary>The most rows one statement asks for; more reads wait for the next.</summary>
    public const int MaxBatchSize = 256;

    private const string ReadMany = "SELECT id, version, payload FROM routing_session WHERE id = ANY(@ids)";

    private readonly string _connectionString;
    private readonly Channel<PendingRead> _reads = Channel.CreateUnbounded<PendingRead>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private long _statements;
    private long _read;

    public PostgresSessionReader(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = connectionString;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Statements sent so far (each reads one or more rows).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>Reads answered so far, in all statements.</summary>
    public long Reads => Interlocked.Read(ref _read);

    /// <summary>The row's version and payload, or null when there is no row with <paramref name="id"/>.</summary>
    public Task<SessionRowData?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        var read = new PendingRead(id);
        if (!_reads.Writer.TryWrite(read))
        {
            throw new ObjectDisposedException(nameof(PostgresSessionReader), "The silo is stopping: no more reads are taken.");
        }

        return cancellationToken.CanBeCanceled ? read.Done.Task.WaitAsync(cancellationToken) : read.Done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _reads.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingRead>(MaxBatchSize);
        var reader = _reads.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatchSize && reader.TryRead(out var read))
            {
                batch.Add(read);
            }

            try
            {
                Interlocked.Increment(ref _statements);
                var rows = await ReadRowsAsync(batch).ConfigureAwait(false);
                foreach (var read in batch)
                {
                    read.Done.TrySetResult(rows.GetValueOrDefault(read.Id));
                }

                Interlocked.Add(ref _read, batch.Count);
            }
            catch (Exception exception)
            {
                foreach (var read in batch)
                {
                    read.Done.TrySetException(exception);
                }
            }

            batch.Clear();
        }
    }

    private async Task<Dictionary<string, SessionRowData>> ReadRowsAsync(List<PendingRead> batch)
    {
        var ids = batch.Select(r => r.Id).Distinct(StringComparer.Ordinal).ToArray();
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ReadMany, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        var rows = new Dictionary<string, SessionRowData>(ids.Length, StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            rows[reader.GetString(0)] = new SessionRowData(reader.GetInt32(1), reader.GetFieldValue<byte[]>(2));
        }

        return rows;
    }

    private sealed class PendingRead(string id)
    {
        public string Id { get; } = id;

        public TaskCompletionSource<SessionRowData?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What a session's row holds for its grain: the version (the ETag) and the serialized state.</summary>
internal sealed record SessionRowData(int Version, byte[] Payload);

/// <summary>One <see cref="PostgresSessionReader"/> per database for the whole silo.</summary>
internal sealed class PostgresSessionReaders() : PerDatabase<PostgresSessionReader>(connectionString => new PostgresSessionReader(connectionString));
