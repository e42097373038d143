using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Persistence.Sessions;
using RoutingCluster.Persistence.Tests.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Persistence.Tests.Sessions;

/// <summary>
/// <see cref="PostgresSessionStorage"/> keeps Orleans' storage contract (read, write, ETag conflicts, clear) on
/// <c>routing_session</c>, and every write leaves the row's index columns equal to the state;
/// <see cref="PostgresSessionIndex"/> answers from those columns.
/// </summary>
public sealed class SessionStorageContractTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private const string StorageName = RoutingGrainsServiceCollectionExtensions.SessionStorageName;
    private const string StateName = "session";
    /// <summary>A customer's pseudonym (the cluster never stores a customer id).</summary>
    private const string Pseudonym = "5d41402abc4b2a76b9719d911017c592ae2e6f0c7a6b1e0d2c3f4a5b6c7d8e9f";

    private static readonly IServiceProvider Services = new ServiceCollection()
        .AddSerializer(serializer => serializer
            .AddAssembly(typeof(SessionRecord).Assembly)
            .AddAssembly(typeof(Customer).Assembly))
        .BuildServiceProvider();

    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 11, 23, 12, 44, 40, TimeSpan.Zero).AddTicks(1234567);

    [Fact]
    public async Task Write_ThenRead_ReturnsTheSameSession_WithVersionOneThenTwo()
    {
        var (storage, _) = await NewStorageAsync("rw");
        var id = Session("s-rw");
        var written = new GrainState<SessionRecord>(Record(SessionState.Queued));

        await storage.WriteStateAsync(StateName, id, written);
        Assert.Equal("1", written.ETag);
        Assert.True(written.RecordExists);

        var read = new GrainState<SessionRecord>();
        await storage.ReadStateAsync(StateName, id, read);
        Assert.Equal("1", read.ETag);
        Assert.True(read.RecordExists);
        AssertSameRecord(written.State!, read.State!);

        read.State!.State = SessionState.Offered;
        read.State.AgentId = "a-1";
        await storage.WriteStateAsync(StateName, id, read);
        Assert.Equal("2", read.ETag);

        var again = new GrainState<SessionRecord>();
        await storage.ReadStateAsync(StateName, id, again);
        Assert.Equal("2", again.ETag);
        Assert.Equal(SessionState.Offered, again.State!.State);
        Assert.Equal("a-1", again.State.AgentId);
    }

    [Fact]
    public async Task Read_OfASessionNeverWritten_GivesANewStateAndNoETag()
    {
        var (storage, _) = await NewStorageAsync("missing");
        var read = new GrainState<SessionRecord>();

        await storage.ReadStateAsync(StateName, Session("s-never"), read);

        Assert.Null(read.ETag);
        Assert.False(read.RecordExists);
        Assert.NotNull(read.State);
        Assert.False(read.State!.Exists);
    }

    [Fact]
    public async Task Write_WithAStaleETag_OrACreateOverAnExistingRow_RaisesInconsistentStateException_AndWritesNothing()
    {
        var (storage, connectionString) = await NewStorageAsync("conflict");
        var id = Session("s-conflict");
        var first = new GrainState<SessionRecord>(Record(SessionState.Queued));
        await storage.WriteStateAsync(StateName, id, first);

        // Another activation moves the session on...
        var other = new GrainState<SessionRecord>();
        await storage.ReadStateAsync(StateName, id, other);
        other.State!.State = SessionState.Abandoned;
        await storage.WriteStateAsync(StateName, id, other);
        Assert.Equal("2", other.ETag);

        // ...so this copy (version 1) is stale, and a copy that never read (no ETag) may only create.
        first.State!.State = SessionState.Offered;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, first));
        Assert.Equal("1", first.ETag);
        var blind = new GrainState<SessionRecord>(Record(SessionState.Connected));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, blind));

        // A version the row never had is refused too, even for a session that has no row at all.
        var invented = new GrainState<SessionRecord>(Record(SessionState.Queued)) { ETag = "7" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, Session("s-nowhere"), invented));

        var row = await RowAsync(connectionString, "s-conflict");
        Assert.Equal(2, row["version"]!.GetValue<int>());
        Assert.Equal("abandoned", row["state"]!.GetValue<string>());
        Assert.Null(await RowOrNullAsync(connectionString, "s-nowhere"));
    }

    [Fact]
    public async Task Clear_DeletesTheRowAtItsVersion_RefusesAStaleVersion_AndTheNextWriteCreatesItAgain()
    {
        var (storage, connectionString) = await NewStorageAsync("clear");
        var id = Session("s-clear");
        var held = new GrainState<SessionRecord>(Record(SessionState.Completed));
        await storage.WriteStateAsync(StateName, id, held);
        var stale = new GrainState<SessionRecord>();
        await storage.ReadStateAsync(StateName, id, stale);
        await storage.WriteStateAsync(StateName, id, held);   // version 2: `stale` holds 1

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, stale));
        Assert.NotNull(await RowOrNullAsync(connectionString, "s-clear"));

        await storage.ClearStateAsync(StateName, id, held);
        Assert.Null(held.ETag);
        Assert.False(held.RecordExists);
        Assert.False(held.State!.Exists);
        Assert.Null(await RowOrNullAsync(connectionString, "s-clear"));

        // Clearing what is not there is done at once; a write then creates the session again at version 1.
        await storage.ClearStateAsync(StateName, id, new GrainState<SessionRecord>());
        var again = new GrainState<SessionRecord>(Record(SessionState.Queued));
        await storage.WriteStateAsync(StateName, id, again);
        Assert.Equal("1", again.ETag);
    }

    [Fact]
    public async Task Write_LeavesIndexColumnsEqualToTheState_AndTheCustomerAsItsPseudonymOnly()
    {
        var (storage, connectionString) = await NewStorageAsync("columns");
        var id = Session("s-columns");
        var state = new GrainState<SessionRecord>(Record(SessionState.Queued));
        await storage.WriteStateAsync(StateName, id, state);
        AssertColumns(state.State!, await RowAsync(connectionString, "s-columns"));

        // Every write refreshes them: through offered and connected to wrap-up.
        var s = state.State!;
        s.State = SessionState.WrapUp;
        s.AgentId = "a-17";
        s.OfferedAt = T0.AddSeconds(5);
        s.AnsweredAt = T0.AddSeconds(6);
        s.EndedAt = T0.AddSeconds(65);
        s.History.Add(new SessionEvent(SessionState.Offered, T0.AddSeconds(5), "cards", "a-17"));
        s.History.Add(new SessionEvent(SessionState.Connected, T0.AddSeconds(6), "cards", "a-17"));
        s.History.Add(new SessionEvent(SessionState.WrapUp, T0.AddSeconds(65), "cards", "a-17", "talk ended"));
        await storage.WriteStateAsync(StateName, id, state);
        var row = await RowAsync(connectionString, "s-columns");
        AssertColumns(s, row);
        Assert.Equal("wrap-up", row["state"]!.GetValue<string>());
        Assert.Equal("5g", row["channel"]!.GetValue<string>());

        // The customer is a column by its pseudonym only; its age and the gateway's attributes are in the payload only.
        Assert.Equal(Pseudonym, row["customer_pseudonym"]!.GetValue<string>());
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (to_jsonb(s) - 'payload')::text FROM routing_session s WHERE id = 's-columns'", connection);
        var columnsText = (string)(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain("loss", columnsText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_ArrivingWhileOneIsInFlight_GoAsOneStatement_AndEachActivationGetsItsOwnRow()
    {
        var (writer, connectionString) = await NewStorageAsync("gathered");
        var written = new Dictionary<string, GrainState<SessionRecord>>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            var state = new GrainState<SessionRecord>(Record(i % 2 == 0 ? SessionState.Queued : SessionState.Offered, $"queue-{i}"));
            await writer.WriteStateAsync(StateName, Session($"s-g{i}"), state);
            if (i % 3 == 0)
            {
                await writer.WriteStateAsync(StateName, Session($"s-g{i}"), state);
            }

            written[$"s-g{i}"] = state;
        }

        // The reader's only connection is held here, so every read below queues behind the first statement.
        var oneConnection = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString;
        await using var reader = new PostgresSessionReader(oneConnection);
        var storage = GatheringStorage(connectionString, reader);
        var keys = written.Keys.Concat(["s-none-1", "s-none-2", "s-g3", "s-g4", "s-none-1"]).ToArray();
        var states = keys.Select(_ => new GrainState<SessionRecord>()).ToArray();
        Task[] reads;
        await using (var held = new NpgsqlConnection(oneConnection))
        {
            await held.OpenAsync();
            reads = keys.Select((key, i) => storage.ReadStateAsync(StateName, Session(key), states[i])).ToArray();
            Assert.All(reads, r => Assert.False(r.IsCompleted));
        }

        await Task.WhenAll(reads);
        Assert.InRange(reader.Statements, 1, 2);
        Assert.Equal(keys.Length, reader.Reads);
        for (var i = 0; i < keys.Length; i++)
        {
            if (written.TryGetValue(keys[i], out var expected))
            {
                Assert.True(states[i].RecordExists, keys[i]);
                Assert.Equal(expected.ETag, states[i].ETag);
                AssertSameRecord(expected.State!, states[i].State!);
            }
            else
            {
                Assert.False(states[i].RecordExists, keys[i]);
                Assert.Null(states[i].ETag);
                Assert.False(states[i].State!.Exists);
            }
        }
    }

    [Fact]
    public async Task GatheredReads_WhenTheDatabaseIsUnreachable_FailEveryActivationWaitingForThem()
    {
        var nowhere = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = FreePorts.Take(1)[0], Timeout = 2 }.ConnectionString;
        await using var reader = new PostgresSessionReader(nowhere);
        var storage = GatheringStorage(nowhere, reader);

        var reads = Enumerable.Range(0, 3).Select(i => storage.ReadStateAsync(StateName, Session($"s-away-{i}"), new GrainState<SessionRecord>())).ToArray();

        foreach (var read in reads)
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => read);
        }

        Assert.Equal(0, reader.Reads);
    }

    [Fact]
    public async Task Write_WhenTheDatabaseIsUnreachable_RaisesInconsistentStateException_SoOrleansResetsTheActivation()
    {
        var nowhere = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = FreePorts.Take(1)[0], Timeout = 2 }.ConnectionString;
        var storage = new PostgresSessionStorage(
            StorageName,
            new PostgresSessionStorageOptions { ConnectionString = nowhere },
            new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>()),
            Services.GetRequiredService<IActivatorProvider>(),
            NullLogger<PostgresSessionStorage>.Instance);
        var state = new GrainState<SessionRecord>(Record(SessionState.Abandoned)) { ETag = "3" };

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, Session("s-away"), state));

        Assert.IsAssignableFrom<NpgsqlException>(error.InnerException);
        Assert.Equal("3", state.ETag);
    }

    [Fact]
    public async Task Write_OfAStateThatIsNotASessionRecord_IsRefused()
    {
        var (storage, _) = await NewStorageAsync("foreign");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            storage.WriteStateAsync("counter", GrainId.Create("counter", "c-1"), new GrainState<List<int>>([1, 2])));

        Assert.Contains(nameof(ISessionRecordColumns), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_ListsQueuedSessionsLongestWaitingFirst_AndPlansTheQueuesAndAgentsToWake()
    {
        var (storage, connectionString) = await NewStorageAsync("index");
        async Task Put(string sessionId, string queueId, SessionState state, int queuedAfterSeconds, string? agentId = null)
        {
            var record = Record(state, queueId);
            record.QueuedAt = T0.AddSeconds(queuedAfterSeconds);
            record.AgentId = agentId;
            await storage.WriteStateAsync(StateName, Session(sessionId), new GrainState<SessionRecord>(record));
        }

        await Put("s-3", "cards", SessionState.Queued, 30);
        await Put("s-1", "cards", SessionState.Queued, 10);
        await Put("s-2", "cards", SessionState.Queued, 20);
        await Put("s-offered", "cards", SessionState.Offered, 0, "a-offer");
        await Put("s-wrap", "loans", SessionState.WrapUp, 0, "a-wrap");
        await Put("s-talk", "loans", SessionState.Connected, 0, "a-talk");
        await Put("s-done", "loans", SessionState.Completed, 0, "a-done");
        await Put("s-other", "mortgages", SessionState.Queued, 5);
        var index = new PostgresSessionIndex(connectionString, NullLogger<PostgresSessionIndex>.Instance);

        Assert.Equal(["s-1", "s-2", "s-3"], await index.QueuedSessionsAsync("cards"));
        Assert.Empty(await index.QueuedSessionsAsync("loans"));
        var plan = await index.RecoveryPlanAsync();
        Assert.Equal(["cards", "mortgages"], plan.Queues);
        Assert.Equal(["a-offer", "a-wrap"], plan.Agents);
    }

    [Fact]
    public async Task IndexQueries_UseThePartialIndexes()
    {
        var (_, connectionString) = await NewStorageAsync("plans");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        async Task<string> Plan(string sql)
        {
            // The table is empty, so without this the planner would rightly prefer a sequential scan.
            await using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection))
            {
                await off.ExecuteNonQueryAsync();
            }

            await using var explain = new NpgsqlCommand("EXPLAIN " + sql, connection);
            await using var reader = await explain.ExecuteReaderAsync();
            var lines = new List<string>();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }

            return string.Join('\n', lines);
        }

        Assert.Contains("routing_session_queued", await Plan(
            "SELECT id FROM routing_session WHERE queue_id = 'cards' AND state = 'queued' ORDER BY queued_at, id"), StringComparison.Ordinal);
        Assert.Contains("routing_session_pending_agent", await Plan(
            "SELECT DISTINCT agent_id FROM routing_session WHERE state IN ('offered', 'wrap-up') AND agent_id IS NOT NULL"), StringComparison.Ordinal);
    }

    private async Task<(PostgresSessionStorage Storage, string ConnectionString)> NewStorageAsync(string purpose)
    {
        var connectionString = await server.CreateSchemaAsync("sessions_" + purpose);
        await PostgresSchema.MigrateAsync(connectionString);
        var storage = new PostgresSessionStorage(
            StorageName,
            new PostgresSessionStorageOptions { ConnectionString = connectionString },
            new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>()),
            Services.GetRequiredService<IActivatorProvider>(),
            NullLogger<PostgresSessionStorage>.Instance);
        return (storage, connectionString);
    }

    /// <summary>A storage whose reads go through <paramref name="reader"/>, as the silo's do.</summary>
    private static PostgresSessionStorage GatheringStorage(string connectionString, PostgresSessionReader reader) => new(
        StorageName,
        new PostgresSessionStorageOptions { ConnectionString = connectionString },
        new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>()),
        Services.GetRequiredService<IActivatorProvider>(),
        NullLogger<PostgresSessionStorage>.Instance,
        batcher: null,
        reader);

    private static GrainId Session(string key) => GrainId.Create("session", key);

    private static SessionRecord Record(SessionState state, string queueId = "cards") => new()
    {
        Exists = true,
        Fingerprint = "f-1",
        QueueId = queueId,
        Channel = Channel.FiveG,
        Customer = new Customer(Pseudonym, 72, [Segment.Elderly]),
        Segments = [Segment.Elderly, Segment.Vip],
        Skills = new() { ["cards"] = 2 },
        Attributes = new() { ["ivr"] = "loss" },
        State = state,
        CreatedAt = T0,
        QueuedAt = T0,
        RejectedBy = ["a-9"],
        History = [new SessionEvent(SessionState.Queued, T0, queueId, null)],
        QueueSequence = 3,
    };

    private static void AssertSameRecord(SessionRecord expected, SessionRecord actual)
    {
        Assert.Equal(expected.Exists, actual.Exists);
        Assert.Equal(expected.QueueId, actual.QueueId);
        Assert.Equal(expected.Channel, actual.Channel);
        Assert.Equal(expected.Customer, actual.Customer?.WithSegments(expected.Customer!.Segments));
        Assert.Equal(expected.Customer!.Segments, actual.Customer!.Segments);
        Assert.Equal(expected.Segments, actual.Segments);
        Assert.Equal(expected.Skills, actual.Skills);
        Assert.Equal(expected.Attributes, actual.Attributes);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.QueuedAt, actual.QueuedAt);
        Assert.Equal(expected.RejectedBy, actual.RejectedBy);
        Assert.Equal(expected.History, actual.History);
        Assert.Equal(expected.QueueSequence, actual.QueueSequence);
    }

    private static void AssertColumns(SessionRecord state, JsonObject row)
    {
        var columns = state.GetColumns();
        Assert.Equal(columns.CustomerPseudonym, row["customer_pseudonym"]?.GetValue<string>());
        Assert.Equal(columns.QueueId, row["queue_id"]!.GetValue<string>());
        Assert.Equal(columns.State, row["state"]!.GetValue<string>());
        Assert.Equal(columns.Channel, row["channel"]!.GetValue<string>());
        Assert.Equal(["elderly", "vip"], row["segments"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(columns.AgentId, row["agent_id"]?.GetValue<string>());
        Assert.Equal(Micros(state.CreatedAt), Time(row["created_at"]));
        Assert.Equal(Micros(state.QueuedAt), Time(row["queued_at"]));
        Assert.Equal(Micros(state.OfferedAt), Time(row["offered_at"]));
        Assert.Equal(Micros(state.AnsweredAt), Time(row["answered_at"]));
        Assert.Equal(Micros(state.EndedAt), Time(row["ended_at"]));
        Assert.Equal(Micros(state.CompletedAt), Time(row["completed_at"]));
        var history = row["history"]!.AsArray();
        Assert.Equal(state.History.Count, history.Count);
        foreach (var (expected, actual) in state.History.Zip(history))
        {
            Assert.Equal(columns.History[state.History.IndexOf(expected)].State, actual!["state"]!.GetValue<string>());
            Assert.Equal(Micros(expected.At), Time(actual["at"]));
            Assert.Equal(expected.QueueId, actual["queue"]!.GetValue<string>());
            Assert.Equal(expected.AgentId, actual["agent"]?.GetValue<string>());
            Assert.Equal(expected.Note, actual["note"]?.GetValue<string>());
        }
    }

    /// <summary>PostgreSQL keeps microseconds; the state has 100-ns ticks.</summary>
    private static DateTimeOffset? Micros(DateTimeOffset? value) =>
        value is { } v ? new DateTimeOffset(v.UtcTicks - (v.UtcTicks % 10), TimeSpan.Zero) : null;

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is null ? null : Micros(DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture));

    private static async Task<JsonObject> RowAsync(string connectionString, string id) =>
        await RowOrNullAsync(connectionString, id) ?? throw new InvalidOperationException($"No routing_session row {id}.");

    /// <summary>The row's columns (all but the payload) as JSON, times in ISO-8601 UTC.</summary>
    private static async Task<JsonObject?> RowOrNullAsync(string connectionString, string id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SET TIME ZONE 'UTC'; SELECT (to_jsonb(s) - 'payload')::text FROM routing_session s WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteScalarAsync() is string json ? JsonNode.Parse(json)!.AsObject() : null;
    }
}

internal static class CustomerExtensions
{
    /// <summary>Records compare lists by reference: this lets two customers compare by value.</summary>
    public static Customer WithSegments(this Customer customer, IReadOnlyList<Segment> segments) => customer with { Segments = segments };
}
