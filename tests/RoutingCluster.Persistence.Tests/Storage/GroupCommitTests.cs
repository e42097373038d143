using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Persistence.Storage;
using RoutingCluster.Persistence.Tests.Grains;
using RoutingCluster.Persistence.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Persistence.Tests.Storage;

/// <summary>
/// <see cref="PostgresGrainStorage"/> through the group commit (<see cref="PostgresWriteBatcher"/>): writes that arrive
/// together commit as one transaction, each grain still gets its own ETag verdict, a refused statement fails only its
/// own write, a batch that cannot reach the database fails every write waiting in it, and no write completes before its
/// transaction has committed. Rows are those of Orleans' ADO.NET storage, read and written both ways.
/// </summary>
public sealed class GroupCommitTests(PostgresServer server) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    private const string StateName = "counter";
    private const string ServiceId = "group-commit-tests";
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(50);

    private static readonly IServiceProvider Services = new ServiceCollection()
        .AddSerializer(serializer => serializer.AddAssembly(typeof(CounterState).Assembly))
        .BuildServiceProvider();

    private readonly List<PostgresWriteBatcher> _batchers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var batcher in _batchers)
        {
            await batcher.DisposeAsync();
        }
    }

    [Fact]
    public async Task WritesOfManyGrains_ArrivingWithinTheWindow_CommitAsOneTransaction_AndEachCompletesAfterIt()
    {
        var time = new FakeTimeProvider();
        var (storage, batcher, connectionString) = await NewStorageAsync("together", time);
        var states = Enumerable.Range(0, 24).Select(i => new GrainState<CounterState>(new CounterState { Total = i })).ToArray();

        var writes = states.Select((s, i) => storage.WriteStateAsync(StateName, Counter($"c-{i}"), s)).ToArray();

        // Each write waits for company until the window has passed: nothing was sent, nothing acknowledged.
        Assert.All(writes, w => Assert.False(w.IsCompleted));
        Assert.Equal(0, batcher.Batches);

        await AdvanceUntilDoneAsync(time, writes);
        Assert.Equal(1, batcher.Batches);
        Assert.Equal(24, batcher.Writes);
        Assert.All(states, s => Assert.Equal("1", s.ETag));
        Assert.Equal(24, await CountRowsAsync(connectionString));
    }

    [Fact]
    public async Task AVersionConflict_InABatch_FailsThatGrainAlone()
    {
        var time = new FakeTimeProvider();
        var (storage, batcher, connectionString) = await NewStorageAsync("conflict", time);
        var a = new GrainState<CounterState>(new CounterState { Total = 1 });
        var b = new GrainState<CounterState>(new CounterState { Total = 2 });
        await AdvanceUntilDoneAsync(time, storage.WriteStateAsync(StateName, Counter("ka"), a), storage.WriteStateAsync(StateName, Counter("kb"), b));
        var before = batcher.Batches;

        // In one batch: a moves on at its version, b writes at a version it never had, c is created, and d is "created"
        // over a's existing row.
        a.State!.Total = 10;
        var staleB = new GrainState<CounterState>(new CounterState { Total = 20 }) { ETag = "7" };
        var c = new GrainState<CounterState>(new CounterState { Total = 30 });
        var blindA = new GrainState<CounterState>(new CounterState { Total = 40 });
        var writeA = storage.WriteStateAsync(StateName, Counter("ka"), a);
        var writeB = storage.WriteStateAsync(StateName, Counter("kb"), staleB);
        var writeC = storage.WriteStateAsync(StateName, Counter("kc"), c);
        var writeBlind = storage.WriteStateAsync(StateName, Counter("ka"), blindA);
        await AdvanceUntilDoneAsync(time, writeA, writeB, writeC, writeBlind);

        Assert.Equal(before + 1, batcher.Batches);
        await writeA;
        Assert.Equal("2", a.ETag);
        await writeC;
        Assert.Equal("1", c.ETag);
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => writeB);
        Assert.Null(conflict.InnerException);   // a verdict on the ETag, not a failure of the database
        Assert.Equal("7", staleB.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => writeBlind);
        Assert.Null(blindA.ETag);

        Assert.Equal((2, 10), await RowAsync(connectionString, "ka"));
        Assert.Equal((1, 2), await RowAsync(connectionString, "kb"));
        Assert.Equal((1, 30), await RowAsync(connectionString, "kc"));
    }

    [Fact]
    public async Task AStatementTheServerRefuses_FailsOnlyItsOwnWrite_TheOthersOfItsBatchAreWrittenAlone()
    {
        var time = new FakeTimeProvider();
        var (storage, batcher, connectionString) = await NewStorageAsync("refused", time);
        var good = Enumerable.Range(0, 3).Select(i => new GrainState<CounterState>(new CounterState { Total = i })).ToArray();
        var writes = good.Select((s, i) => storage.WriteStateAsync(StateName, Counter($"ok-{i}"), s)).ToList();

        // A NULL grain type breaks the table's NOT NULL constraint: the server refuses the statement, and with it the
        // whole transaction.
        var poisoned = storage.WriteStateAsync(null!, Counter("poison"), new GrainState<CounterState>(new CounterState()));
        await AdvanceUntilDoneAsync(time, [.. writes, poisoned]);

        var failure = await Assert.ThrowsAsync<InconsistentStateException>(() => poisoned);
        Assert.Equal(PostgresErrorCodes.NotNullViolation, Assert.IsType<PostgresException>(failure.InnerException).SqlState);
        await Task.WhenAll(writes);
        Assert.All(good, s => Assert.Equal("1", s.ETag));
        Assert.Equal(3, await CountRowsAsync(connectionString));
        Assert.Equal(1 + 4, batcher.Batches);   // the refused batch, then each write alone
    }

    [Fact]
    public async Task ABatchThatCannotReachTheDatabase_FailsEveryWriteWaitingInIt()
    {
        var time = new FakeTimeProvider();
        var unreachable = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = FreePorts.One(), Timeout = 2 }.ConnectionString;
        var batcher = Batcher(unreachable, time);
        var storage = Storage(unreachable, batcher);
        var states = Enumerable.Range(0, 3).Select(i => new GrainState<CounterState>(new CounterState { Total = i }) { ETag = "4" }).ToArray();
        var writes = states.Select((s, i) => storage.WriteStateAsync(StateName, Counter($"down-{i}"), s)).ToArray();

        await AdvanceUntilDoneAsync(time, writes);

        Assert.Equal(1, batcher.Batches);
        foreach (var write in writes)
        {
            var failure = await Assert.ThrowsAsync<InconsistentStateException>(() => write);
            Assert.IsAssignableFrom<NpgsqlException>(failure.InnerException);
        }

        Assert.All(states, s => Assert.Equal("4", s.ETag));
    }

    [Fact]
    public async Task AWrite_CompletesOnlyAfterItsTransactionHasCommitted()
    {
        var (storage, _, connectionString) = await NewStorageAsync("durable", TimeProvider.System, window: TimeSpan.Zero);

        // Another transaction locks the table against writes (reads still pass).
        await using var locker = new NpgsqlConnection(connectionString);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE routing_grain_state IN EXCLUSIVE MODE", locker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var state = new GrainState<CounterState>(new CounterState { Total = 5 });
        var write = storage.WriteStateAsync(StateName, Counter("held"), state);

        Assert.NotSame(write, await Task.WhenAny(write, Task.Delay(TimeSpan.FromMilliseconds(500))));
        Assert.Null(await RowOrNullAsync(connectionString, "held"));

        await transaction.RollbackAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(20));

        // Acknowledged: committed, so any other connection sees it at once.
        Assert.Equal((1, 5), await RowAsync(connectionString, "held"));
        Assert.Equal("1", state.ETag);
    }

    [Fact]
    public async Task AFreshKey_IsNotRead_AndAnyOtherKeyIs()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = FreePorts.One(), Timeout = 2 }.ConnectionString;
        var storage = Storage(unreachable, Batcher(unreachable, TimeProvider.System));
        var read = new GrainState<CounterState>(new CounterState { Total = 99 }) { ETag = "3" };

        using (FreshGrainKey.Mark("s-new"))
        {
            await storage.ReadStateAsync(StateName, Counter("s-new"), read);
            Assert.Null(read.ETag);
            Assert.False(read.RecordExists);
            Assert.Equal(0, read.State!.Total);

            // Only the marked key: another grain read in the same call goes to the database (unreachable here).
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => storage.ReadStateAsync(StateName, Counter("s-old"), new GrainState<CounterState>()));
        }

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => storage.ReadStateAsync(StateName, Counter("s-new"), new GrainState<CounterState>()));
    }

    [Theory]
    [InlineData("string")]
    [InlineData("guid")]
    [InlineData("integer")]
    [InlineData("guid-ext")]
    [InlineData("integer-ext")]
    public async Task Rows_AreThoseOfTheAdoNetProvider_BothWays(string keyKind)
    {
        var (storage, _, connectionString) = await NewStorageAsync("adonet_" + keyKind.Replace('-', '_'), TimeProvider.System, window: TimeSpan.Zero);
        var grain = keyKind switch
        {
            "string" => Counter("a-li"),
            "guid" => GrainId.Create(GrainType.Create("counter"), GrainIdKeyExtensions.CreateGuidKey(Guid.Parse("0b2d4f6a-8c1e-4a3b-9d5f-7e6c8a0b2d4f"))),
            "integer" => GrainId.Create(GrainType.Create("counter"), GrainIdKeyExtensions.CreateIntegerKey(-4711)),
            "guid-ext" => GrainId.Create(GrainType.Create("counter"), GrainIdKeyExtensions.CreateGuidKey(Guid.Parse("0b2d4f6a-8c1e-4a3b-9d5f-7e6c8a0b2d4f"), "ext")),
            _ => GrainId.Create(GrainType.Create("counter"), GrainIdKeyExtensions.CreateIntegerKey(42, "ext")),
        };
        var serializer = new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>());
        var key = AdoKeyOf(grain);

        // Written by the provider's own query (the orleansquery catalogue), read back here...
        var version = await RunCatalogueQueryAsync(connectionString, "WriteToStorageKey", key,
            serializer.Serialize(new CounterState { Total = 7, Notes = ["ado"] }).ToArray(), version: null);
        Assert.Equal(1, version);
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.Equal("1", read.ETag);
        Assert.Equal(7, read.State!.Total);

        // ...moved on here, and read back by the provider's query at the new version.
        read.State.Total = 8;
        await storage.WriteStateAsync(StateName, grain, read);
        Assert.Equal("2", read.ETag);
        var (storedVersion, payload) = await ReadByCatalogueAsync(connectionString, key);
        Assert.Equal(2, storedVersion);
        Assert.Equal(8, serializer.Deserialize<CounterState>(new BinaryData(payload))!.Total);
        Assert.Equal(1, await CountRowsAsync(connectionString));
    }

    /// <summary>A string-keyed grain. Keys that read as hexadecimal numbers ("a", "12") are integer keys to Orleans.</summary>
    private static GrainId Counter(string key) => GrainId.Create("counter", key);

    /// <summary>Advances the fake clock by the window until every write has completed (the batcher may start waiting on
    /// the clock a moment after the writes were queued).</summary>
    private static async Task AdvanceUntilDoneAsync(FakeTimeProvider time, params Task[] writes)
    {
        var all = Task.WhenAll(writes);
        for (var i = 0; i < 400 && !all.IsCompleted; i++)
        {
            time.Advance(Window);
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromMilliseconds(50)));
        }

        try
        {
            await all.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception) when (all.IsCompleted)
        {
            // Failures are each test's to assert.
        }
    }

    private async Task<(PostgresGrainStorage Storage, PostgresWriteBatcher Batcher, string ConnectionString)> NewStorageAsync(
        string purpose, TimeProvider time, TimeSpan? window = null)
    {
        var connectionString = await server.CreateSchemaAsync("commit_" + purpose);
        await PostgresSchema.MigrateAsync(connectionString);
        var batcher = Batcher(connectionString, time, window);
        return (Storage(connectionString, batcher), batcher, connectionString);
    }

    private PostgresWriteBatcher Batcher(string connectionString, TimeProvider time, TimeSpan? window = null)
    {
        var batcher = new PostgresWriteBatcher(connectionString,
            new PostgresGroupCommitOptions { Window = window ?? Window, Time = time }, NullLogger.Instance);
        _batchers.Add(batcher);
        return batcher;
    }

    private static PostgresGrainStorage Storage(string connectionString, PostgresWriteBatcher batcher) => new(
        "routing",
        ServiceId,
        new PostgresGrainStorageOptions { ConnectionString = connectionString },
        new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>()),
        batcher,
        Services.GetRequiredService<IActivatorProvider>(),
        NullLogger<PostgresGrainStorage>.Instance);

    private static async Task<int> CountRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM routing_grain_state WHERE payload IS NOT NULL", connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task<(int Version, int Total)> RowAsync(string connectionString, string key) =>
        await RowOrNullAsync(connectionString, key) ?? throw new InvalidOperationException($"No row for {key}.");

    private static async Task<(int Version, int Total)?> RowOrNullAsync(string connectionString, string key)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT version, payload FROM routing_grain_state WHERE grain_id_ext = @key AND grain_type = @type", connection);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("type", StateName);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        var serializer = new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>());
        return (reader.GetInt32(0), serializer.Deserialize<CounterState>(new BinaryData(reader.GetFieldValue<byte[]>(1)))!.Total);
    }

    private sealed record AdoKey(long N0, long N1, string? Extension);

    /// <summary>The key columns as the ADO.NET provider computes them (its AdoGrainKey), written out independently.</summary>
    private static AdoKey AdoKeyOf(GrainId grain)
    {
        if (grain.TryGetGuidKey(out var guid, out var guidExt))
        {
            var bytes = guid.ToByteArray();
            return new AdoKey(BitConverter.ToInt64(bytes, 0), BitConverter.ToInt64(bytes, 8), guidExt);
        }

        if (grain.TryGetIntegerKey(out var integer, out var intExt))
        {
            return new AdoKey(0, integer, intExt);
        }

        return new AdoKey(0, 0, grain.Key.ToString());
    }

    private static void BindAdo(NpgsqlCommand command, AdoKey key)
    {
        command.Parameters.AddWithValue("ServiceId", ServiceId);
        command.Parameters.AddWithValue("GrainTypeString", StateName);
        command.Parameters.AddWithValue("GrainIdN0", key.N0);
        command.Parameters.AddWithValue("GrainIdN1", key.N1);
        command.Parameters.Add(new NpgsqlParameter("GrainIdExtensionString", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)key.Extension ?? DBNull.Value });
        command.Parameters.AddWithValue("GrainIdHash", 0);
        command.Parameters.AddWithValue("GrainTypeHash", 0);
    }

    private static async Task<string> QueryTextAsync(NpgsqlConnection connection, string queryKey)
    {
        await using var command = new NpgsqlCommand("SELECT querytext FROM orleansquery WHERE querykey = @key", connection);
        command.Parameters.AddWithValue("key", queryKey);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<int?> RunCatalogueQueryAsync(string connectionString, string queryKey, AdoKey key, byte[] payload, int? version)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(await QueryTextAsync(connection, queryKey), connection);
        BindAdo(command, key);
        command.Parameters.AddWithValue("PayloadBinary", payload);
        command.Parameters.Add(new NpgsqlParameter("GrainStateVersion", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)version ?? DBNull.Value });
        return await command.ExecuteScalarAsync() as int?;
    }

    private static async Task<(int Version, byte[] Payload)> ReadByCatalogueAsync(string connectionString, AdoKey key)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(await QueryTextAsync(connection, "ReadFromStorageKey"), connection);
        BindAdo(command, key);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "the provider's read query finds the row");
        return (reader.GetInt32(reader.GetOrdinal("Version")), reader.GetFieldValue<byte[]>(reader.GetOrdinal("PayloadBinary")));
    }
}
