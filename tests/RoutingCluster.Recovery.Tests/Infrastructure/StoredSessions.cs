using System.Text.Json;
using Npgsql;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>The session records as stored: every row of <c>routing_session</c>, for <see cref="KpiRecompute"/>. The rows
/// do not say which stays were callbacks: the test adds the callbacks its driver was granted
/// (<see cref="StoredSession.Callbacks"/>).</summary>
public static class StoredSessions
{
    /// <summary>Every row of the schema's <c>routing_session</c>.</summary>
    public static async Task<List<StoredSession>> ReadAllAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, state, channel, segments, history::text FROM routing_session ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<StoredSession>();
        while (await reader.ReadAsync())
        {
            rows.Add(new StoredSession(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetFieldValue<string[]>(3),
                ParseHistory(reader.GetString(4))));
        }

        return rows;
    }

    private static List<HistoryEntry> ParseHistory(string json)
    {
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(e => new HistoryEntry(
            e.GetProperty("state").GetString()!,
            e.GetProperty("at").GetDateTimeOffset(),     // ISO-8601 with all seven fractional digits: exact ticks
            e.GetProperty("queue").GetString()!,
            e.GetProperty("agent").ValueKind == JsonValueKind.String ? e.GetProperty("agent").GetString() : null,
            e.GetProperty("note").ValueKind == JsonValueKind.String ? e.GetProperty("note").GetString() : null))];
    }
}

/// <summary>The rows of <c>routing_interval</c> (migration 0006), as the statistics grains wrote them.</summary>
public sealed class PersistedIntervals
{
    public Dictionary<StatsCell, KpiCounters> QueueCells { get; } = [];

    public Dictionary<StatsCell, KpiCounters> AgentCells { get; } = [];

    public static async Task<PersistedIntervals> ReadAsync(string connectionString)
    {
        const string Sql = """
            SELECT owner_kind, owner_id, interval_start, breakdown, breakdown_value,
                   offered, answered, answered_within_threshold, abandoned, overflowed, refused, speed_of_answer_ticks,
                   talk_count, talk_ticks, after_call_work_count, after_call_work_ticks,
                   idle_ticks, ringing_ticks, busy_ticks, wrap_up_ticks, not_ready_ticks, callbacks, callbacks_answered
              FROM routing_interval
            """;
        var result = new PersistedIntervals();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var cell = new StatsCell(
                reader.GetString(1),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(2), TimeSpan.Zero),
                reader.GetString(3) switch { "channel" => Breakdown.Channel, "segment" => Breakdown.Segment, _ => Breakdown.Total },
                reader.GetString(4));
            var counters = new KpiCounters
            {
                Offered = reader.GetInt64(5), Answered = reader.GetInt64(6), AnsweredWithinThreshold = reader.GetInt64(7),
                Abandoned = reader.GetInt64(8), Overflowed = reader.GetInt64(9), Refused = reader.GetInt64(10),
                SpeedOfAnswerTicks = reader.GetInt64(11), TalkCount = reader.GetInt64(12), TalkTicks = reader.GetInt64(13),
                AfterCallWorkCount = reader.GetInt64(14), AfterCallWorkTicks = reader.GetInt64(15),
                IdleTicks = reader.GetInt64(16), RingingTicks = reader.GetInt64(17), BusyTicks = reader.GetInt64(18),
                WrapUpTicks = reader.GetInt64(19), NotReadyTicks = reader.GetInt64(20),
                Callbacks = reader.GetInt64(21), CallbacksAnswered = reader.GetInt64(22),
            };
            var cells = reader.GetString(0) == "queue" ? result.QueueCells : result.AgentCells;
            if (!cells.TryAdd(cell, counters))
            {
                cells[cell].Add(counters); // an owner written by two grain keys would be summed, as the API sums them
            }
        }

        return result;
    }
}
