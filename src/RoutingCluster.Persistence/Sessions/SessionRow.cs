using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RoutingCluster.Grains.Sessions;

namespace RoutingCluster.Persistence.Sessions;

/// <summary>The SQL of <c>routing_session</c> (migrations 0005 and 0009) and how column values are bound.</summary>
internal static class SessionRow
{
    public const string Read = "SELECT version, payload FROM routing_session WHERE id = @id";

    /// <summary>
    /// One statement, one row written (columns of migrations 0005 and 0009): with no expected version it creates the row (version 1) unless one exists;
    /// with one it updates the row only at that version and moves it on by one. It returns the new version, or no
    /// row when nothing was written (a stale write, or a create over an existing row).
    /// </summary>
    public const string Write = """
        WITH created AS (
            INSERT INTO routing_session (id, version, payload, queue_id, state, channel, segments, agent_id,
                                         created_at, queued_at, offered_at, answered_at, ended_at, completed_at, history,
                                         customer_pseudonym)
            SELECT @id, 1, @payload, @queue_id, @state, @channel, @segments, @agent_id,
                   @created_at, @queued_at, @offered_at, @answered_at, @ended_at, @completed_at, @history,
                   @customer_pseudonym
             WHERE @expected IS NULL
            ON CONFLICT (id) DO NOTHING
            RETURNING version),
        updated AS (
            UPDATE routing_session
               SET version = version + 1, payload = @payload, queue_id = @queue_id, state = @state, channel = @channel,
                   segments = @segments, agent_id = @agent_id, created_at = @created_at, queued_at = @queued_at,
                   offered_at = @offered_at, answered_at = @answered_at, ended_at = @ended_at,
                   completed_at = @completed_at, history = @history, customer_pseudonym = @customer_pseudonym,
                   modified_at = now()
             WHERE id = @id AND version = @expected
            RETURNING version)
        SELECT version FROM created
        UNION ALL
        SELECT version FROM updated
        """;

    /// <summary>Deletes the row at the expected version; returns the deleted version, or no row on a conflict.</summary>
    public const string Clear = "DELETE FROM routing_session WHERE id = @id AND version = @expected RETURNING version";

    public static void AddId(NpgsqlParameterCollection parameters, string id) =>
        parameters.Add(new NpgsqlParameter<string>("id", NpgsqlDbType.Text) { TypedValue = id });

    public static void AddExpected(NpgsqlParameterCollection parameters, int? expected) =>
        parameters.Add(new NpgsqlParameter("expected", NpgsqlDbType.Integer) { Value = expected is { } v ? v : DBNull.Value });

    public static void AddColumns(NpgsqlParameterCollection p, byte[] payload, SessionColumns columns)
    {
        p.Add(new NpgsqlParameter<byte[]>("payload", NpgsqlDbType.Bytea) { TypedValue = payload });
        p.Add(new NpgsqlParameter<string>("queue_id", NpgsqlDbType.Text) { TypedValue = columns.QueueId });
        p.Add(new NpgsqlParameter<string>("state", NpgsqlDbType.Text) { TypedValue = columns.State });
        p.Add(new NpgsqlParameter<string>("channel", NpgsqlDbType.Text) { TypedValue = columns.Channel });
        p.Add(new NpgsqlParameter<string[]>("segments", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. columns.Segments] });
        p.Add(Nullable("agent_id", NpgsqlDbType.Text, columns.AgentId));
        p.Add(Time("created_at", columns.CreatedAt));
        p.Add(Time("queued_at", columns.QueuedAt));
        p.Add(Time("offered_at", columns.OfferedAt));
        p.Add(Time("answered_at", columns.AnsweredAt));
        p.Add(Time("ended_at", columns.EndedAt));
        p.Add(Time("completed_at", columns.CompletedAt));
        p.Add(new NpgsqlParameter<string>("history", NpgsqlDbType.Jsonb) { TypedValue = HistoryJson(columns.History) });
        p.Add(Nullable("customer_pseudonym", NpgsqlDbType.Text, columns.CustomerPseudonym));
    }

    /// <summary><c>[{"state","at","queue","agent","note"}, ...]</c>, times in ISO-8601 UTC.</summary>
    public static string HistoryJson(IReadOnlyList<SessionHistoryColumn> history)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var e in history)
            {
                json.WriteStartObject();
                json.WriteString("state", e.State);
                json.WriteString("at", e.At.UtcDateTime);
                json.WriteString("queue", e.QueueId);
                WriteNullable(json, "agent", e.AgentId);
                WriteNullable(json, "note", e.Note);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static NpgsqlParameter Nullable(string name, NpgsqlDbType type, object? value) =>
        new(name, type) { Value = value ?? DBNull.Value };

    /// <summary>timestamptz takes UTC only (Npgsql refuses other offsets); the instant is the same.</summary>
    private static NpgsqlParameter Time(string name, DateTimeOffset? value) =>
        Nullable(name, NpgsqlDbType.TimestampTz, value?.ToUniversalTime());
}
