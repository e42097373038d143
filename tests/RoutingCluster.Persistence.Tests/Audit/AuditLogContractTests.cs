using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Persistence.Audit;
using RoutingCluster.Persistence.Storage;
using RoutingCluster.Persistence.Tests.Infrastructure;

namespace RoutingCluster.Persistence.Tests.Audit;

/// <summary>
/// <c>routing_audit</c> is append-only: records are inserted and read back as written, newest first and filtered;
/// an update, a delete or a truncate fails, for the table's owner (the trigger) and for a silo role granted what
/// docs/operations.md grants (insert and select only).
/// </summary>
public sealed class AuditLogContractTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly DateTimeOffset Eight = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Append_ThenQuery_ReturnsTheRecordsAsWritten_NewestFirst_Filtered()
    {
        var (log, _, batcher) = await NewLogAsync("audit_query");
        await using (batcher)
        {
            var admin = new AuditActor("admin-1", ["admin"], null, null);
            var supervisor = new AuditActor("sup-1", ["supervisor"], null, null);
            await log.AppendAsync(new AuditRecord(0, Eight, admin, "10.1.2.3", AuditActions.QueueConfigured, "cards", AuditOutcomes.Succeeded,
                Before: null, After: """{"id":"cards","wrapUpSeconds":5}""", TraceId: "trace-1"));
            await log.AppendAsync(new AuditRecord(0, Eight.AddMinutes(1), supervisor, "10.1.2.4", AuditActions.AgentStateChanged, "a-1",
                AuditOutcomes.Succeeded, Forced: true, Detail: "coaching", After: """{"state":"not-ready","reason":"coaching"}"""));
            await log.AppendAsync(new AuditRecord(0, Eight.AddMinutes(2), AuditActor.Anonymous, null, AuditActions.AccessRefused, "cards",
                AuditOutcomes.Refused, Detail: "PUT /v1/queues/{id}: A bearer token is needed."));

            var all = await log.QueryAsync(new AuditQuery());
            var cards = await log.QueryAsync(new AuditQuery(TargetId: "cards"));
            var bySupervisor = await log.QueryAsync(new AuditQuery(Actor: "sup-1"));
            var window = await log.QueryAsync(new AuditQuery(From: Eight.AddMinutes(1), To: Eight.AddMinutes(2)));
            var newest = await log.QueryAsync(new AuditQuery(Limit: 1));

            Assert.Equal([AuditActions.AccessRefused, AuditActions.AgentStateChanged, AuditActions.QueueConfigured], all.Select(r => r.Action));
            Assert.True(all[0].Id > all[1].Id && all[1].Id > all[2].Id);
            var configured = all[2];
            Assert.Equal(Eight, configured.At);
            Assert.Equal(admin.Subject, configured.Actor.Subject);
            Assert.Equal(["admin"], configured.Actor.Roles);
            Assert.Equal("10.1.2.3", configured.RemoteAddress);
            Assert.Null(configured.Before);
            Assert.Equal(5, System.Text.Json.JsonDocument.Parse(configured.After!).RootElement.GetProperty("wrapUpSeconds").GetInt32());
            Assert.Equal("trace-1", configured.TraceId);
            Assert.True(all[1].Forced);
            Assert.Null(all[0].Actor.Subject);
            Assert.Equal(2, cards.Count);
            Assert.Equal("a-1", Assert.Single(bySupervisor).TargetId);
            Assert.Equal(AuditActions.AgentStateChanged, Assert.Single(window).Action);
            Assert.Equal(all[0].Id, Assert.Single(newest).Id);
        }
    }

    [Fact]
    public async Task ARecordSharingATransactionWithOtherWrites_LeavesEachWriteItsOwnResult()
    {
        var connectionString = await server.CreateSchemaAsync("audit_batch");
        await PostgresSchema.MigrateAsync(connectionString);
        await ExecuteAsync(connectionString, "CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO counter VALUES (1, 41)");
        await using var batcher = new PostgresWriteBatcher(connectionString, new PostgresGroupCommitOptions { Window = TimeSpan.FromMilliseconds(200) }, NullLogger.Instance);
        var log = new PostgresAuditLog(connectionString, batcher, NullLogger<PostgresAuditLog>.Instance);

        // Queued in this order within one window: one transaction, the record's statement first.
        var record = log.AppendAsync(new AuditRecord(0, Eight, AuditActor.Anonymous, null, AuditActions.AccessRefused, "cards", AuditOutcomes.Refused));
        var write = batcher.ExecuteAsync("UPDATE counter SET v = v + 1 WHERE id = 1 RETURNING v", _ => { });
        await record;

        Assert.Equal(42, await write);
        Assert.Equal(1, batcher.Batches);
        Assert.Throws<ArgumentException>(() => { _ = batcher.ExecuteAsync("UPDATE counter SET v = 0", _ => { }); });
    }

    [Theory]
    [InlineData("UPDATE routing_audit SET outcome = 'failed'")]
    [InlineData("DELETE FROM routing_audit")]
    [InlineData("TRUNCATE routing_audit")]
    public async Task ChangingOrRemovingRecords_Fails_EvenForTheTablesOwner(string sql)
    {
        var (log, connectionString, batcher) = await NewLogAsync("audit_owner");
        await using (batcher)
        {
            await log.AppendAsync(new AuditRecord(0, Eight, AuditActor.Anonymous, null, AuditActions.AccessRefused, "cards", AuditOutcomes.Refused));

            var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connectionString, sql));

            Assert.Contains("append-only", error.MessageText, StringComparison.Ordinal);
            Assert.Single(await log.QueryAsync(new AuditQuery()));
        }
    }

    [Fact]
    public async Task TheSilosRole_MayInsertAndRead_ButNotUpdateDeleteOrTruncate()
    {
        var (_, ownerConnection, batcher) = await NewLogAsync("audit_grants");
        await using (batcher)
        {
            var schema = new NpgsqlConnectionStringBuilder(ownerConnection).SearchPath!;
            var role = $"routing_silo_{Guid.NewGuid():N}"[..24];
            await ExecuteAsync(ownerConnection, $"""
                CREATE ROLE {role} LOGIN;
                GRANT USAGE ON SCHEMA "{schema}" TO {role};
                GRANT SELECT, INSERT ON routing_audit TO {role};
                """);
            var silo = new NpgsqlConnectionStringBuilder(ownerConnection) { Username = role }.ConnectionString;
            await using var siloBatcher = NewBatcher(silo);
            var log = new PostgresAuditLog(silo, siloBatcher, NullLogger<PostgresAuditLog>.Instance);

            await log.AppendAsync(new AuditRecord(0, Eight, AuditActor.Anonymous, null, AuditActions.AccessRefused, "cards", AuditOutcomes.Refused));
            var update = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(silo, "UPDATE routing_audit SET outcome = 'failed'"));
            var delete = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(silo, "DELETE FROM routing_audit"));
            var truncate = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(silo, "TRUNCATE routing_audit"));
            var drop = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(silo, "DROP TRIGGER routing_audit_no_update_or_delete ON routing_audit"));

            Assert.All([update, delete, truncate, drop], e => Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState));
            Assert.Single(await log.QueryAsync(new AuditQuery()));
        }
    }

    private async Task<(PostgresAuditLog Log, string ConnectionString, PostgresWriteBatcher Batcher)> NewLogAsync(string purpose)
    {
        var connectionString = await server.CreateSchemaAsync(purpose);
        await PostgresSchema.MigrateAsync(connectionString);
        var batcher = NewBatcher(connectionString);
        return (new PostgresAuditLog(connectionString, batcher, NullLogger<PostgresAuditLog>.Instance), connectionString, batcher);
    }

    private static PostgresWriteBatcher NewBatcher(string connectionString) =>
        new(connectionString, new PostgresGroupCommitOptions { Window = TimeSpan.FromMilliseconds(1) }, NullLogger.Instance);

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
