using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Persistence.Storage;

namespace RoutingCluster.Persistence.Audit;

/// <summary>
/// The audit log in <c>routing_audit</c> (migration 0008: insert and read only). A record is inserted through the
/// silo's group commit (<see cref="PostgresWriteBatcher"/>), in the same transaction as the grain-state writes of the
/// moment, and <see cref="AppendAsync"/> completes once that transaction has committed.
/// </summary>
internal sealed class PostgresAuditLog(string connectionString, PostgresWriteBatcher writes, ILogger<PostgresAuditLog> logger) : IAuditLog
{
    private const string InsertSql = """
        INSERT INTO routing_audit (at, actor_subject, actor_roles, actor_client_id, actor_agent_id, remote_address,
                                   action, target_id, outcome, forced, detail, before_value, after_value, trace_id)
        VALUES (@at, @subject, @roles, @client_id, @agent_id, @remote_address,
                @action, @target_id, @outcome, @forced, @detail, @before_value, @after_value, @trace_id)
        RETURNING 0
        """;

    private const string QuerySql = """
        SELECT id, at, actor_subject, actor_roles, actor_client_id, actor_agent_id, remote_address, action, target_id,
               outcome, forced, detail, before_value::text, after_value::text, trace_id
          FROM routing_audit
         WHERE (@from IS NULL OR at >= @from) AND (@to IS NULL OR at < @to)
           AND (@actor IS NULL OR actor_subject = @actor OR actor_client_id = @actor OR actor_agent_id = @actor)
           AND (@action IS NULL OR action = @action) AND (@target_id IS NULL OR target_id = @target_id)
         ORDER BY at DESC, id DESC
         LIMIT @limit
        """;

    public async Task AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        try
        {
            await writes.ExecuteAsync(InsertSql, p =>
            {
                p.Add(new NpgsqlParameter<DateTime>("at", NpgsqlDbType.TimestampTz) { TypedValue = record.At.UtcDateTime });
                p.Add(Text("subject", record.Actor.Subject));
                p.Add(new NpgsqlParameter<string[]>("roles", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. record.Actor.Roles] });
                p.Add(Text("client_id", record.Actor.ClientId));
                p.Add(Text("agent_id", record.Actor.AgentId));
                p.Add(Text("remote_address", record.RemoteAddress));
                p.Add(Text("action", record.Action));
                p.Add(Text("target_id", record.TargetId));
                p.Add(Text("outcome", record.Outcome));
                p.Add(new NpgsqlParameter<bool>("forced", NpgsqlDbType.Boolean) { TypedValue = record.Forced });
                p.Add(Text("detail", record.Detail));
                p.Add(Json("before_value", record.Before));
                p.Add(Json("after_value", record.After));
                p.Add(Text("trace_id", record.TraceId));
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or ObjectDisposedException or TimeoutException)
        {
            logger.AuditWriteFailed(exception, record.Action);
            throw;
        }
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(QuerySql, connection);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter("from", NpgsqlDbType.TimestampTz) { Value = (object?)query.From?.UtcDateTime ?? DBNull.Value });
        p.Add(new NpgsqlParameter("to", NpgsqlDbType.TimestampTz) { Value = (object?)query.To?.UtcDateTime ?? DBNull.Value });
        p.Add(Text("actor", query.Actor));
        p.Add(Text("action", query.Action));
        p.Add(Text("target_id", query.TargetId));
        p.Add(new NpgsqlParameter<int>("limit", NpgsqlDbType.Integer) { TypedValue = query.Limit });
        var records = new List<AuditRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(new AuditRecord(
                reader.GetInt64(0),
                new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)),
                new AuditActor(TextOrNull(reader, 2), reader.GetFieldValue<string[]>(3), TextOrNull(reader, 4), TextOrNull(reader, 5)),
                TextOrNull(reader, 6),
                reader.GetString(7),
                TextOrNull(reader, 8),
                reader.GetString(9),
                reader.GetBoolean(10),
                TextOrNull(reader, 11),
                TextOrNull(reader, 12),
                TextOrNull(reader, 13),
                TextOrNull(reader, 14)));
        }

        return records;
    }

    private static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Json(string name, string? json) =>
        new(name, NpgsqlDbType.Jsonb) { Value = (object?)json ?? DBNull.Value };

    private static string? TextOrNull(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
