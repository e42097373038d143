using BenchmarkDotNet.Attributes;
using Npgsql;
using NpgsqlTypes;

namespace RoutingCluster.Benchmarks.Storage;

/// <summary>
/// The database ceiling: single-row upserts (INSERT … ON CONFLICT DO UPDATE, one statement per transaction, as a
/// grain-state write is) into a table keyed by id, with 1 client and with 8 clients on their own connections, with
/// <c>synchronous_commit</c> on (each commit waits for its WAL flush: the durable setting) and off. One operation is
/// one row: rows/s = 1 / the mean. Each client writes 10,000 ids over and over, so nearly every row is an update.
/// Needs a server: <c>RC_BENCH_PG</c> holds its connection string (run without it, this class is left out).
/// </summary>
[MemoryDiagnoser]
public class PostgresUpsertBenchmarks
{
    public const string ConnectionVariable = "RC_BENCH_PG";
    public const int RowsPerInvoke = 400;
    private const int IdsPerClient = 10_000;

    private readonly byte[] _payload = new byte[512];
    private NpgsqlDataSource _source = null!;
    private (NpgsqlConnection Connection, NpgsqlCommand Command)[] _clients = [];
    private long _next;

    [Params(1, 8)]
    public int Clients { get; set; } = 1;

    [Params("on", "off")]
    public string SynchronousCommit { get; set; } = "on";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionVariable);

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (connection, command) in _clients)
        {
            command.Dispose();
            connection.Dispose();
        }

        _source.Dispose();
    }

    [Benchmark(OperationsPerInvoke = RowsPerInvoke)]
    public Task Upsert() => Task.WhenAll(_clients.Select(async (client, c) =>
    {
        for (var i = 0; i < RowsPerInvoke / Clients; i++)
        {
            var n = Interlocked.Increment(ref _next);
            client.Command.Parameters[0].Value = (c * (long)IdsPerClient) + (n % IdsPerClient);
            client.Command.Parameters[1].Value = n;
            await client.Command.ExecuteNonQueryAsync();
        }
    }));

    private async Task SetupAsync()
    {
        var connectionString = ConnectionString ?? throw new InvalidOperationException($"Set {ConnectionVariable} to a PostgreSQL connection string.");
        new Random(7).NextBytes(_payload);
        _source = NpgsqlDataSource.Create(connectionString);
        await using (var setup = await _source.OpenConnectionAsync())
        {
            await using var create = new NpgsqlCommand(
                "CREATE TABLE IF NOT EXISTS bench_upsert (id bigint PRIMARY KEY, version bigint NOT NULL, payload bytea NOT NULL, updated_at timestamptz NOT NULL)",
                setup);
            await create.ExecuteNonQueryAsync();
        }

        _clients = new (NpgsqlConnection, NpgsqlCommand)[Clients];
        for (var c = 0; c < Clients; c++)
        {
            var connection = await _source.OpenConnectionAsync();
            await using (var set = new NpgsqlCommand($"SET synchronous_commit = {(SynchronousCommit == "on" ? "on" : "off")}", connection))
            {
                await set.ExecuteNonQueryAsync();
            }

            var command = new NpgsqlCommand(
                "INSERT INTO bench_upsert (id, version, payload, updated_at) VALUES ($1, $2, $3, now()) "
                + "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, payload = EXCLUDED.payload, updated_at = EXCLUDED.updated_at",
                connection);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = _payload });
            await command.PrepareAsync();
            _clients[c] = (connection, command);
        }
    }
}
