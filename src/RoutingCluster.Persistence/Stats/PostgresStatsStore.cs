using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.Persistence.Stats;

/// <summary>
/// The statistics grains' <see cref="IStatsStore"/> over <c>routing_interval</c> (migration 0006): one statement per
/// write, an upsert of every changed cell of the grain at once (arrays, unnested by the server).
/// </summary>
public sealed class PostgresStatsStore(string connectionString, ILogger<PostgresStatsStore> logger) : IStatsStore
{
    private const string Columns = """
        offered, answered, answered_within_threshold, abandoned, overflowed, refused, speed_of_answer_ticks,
        talk_count, talk_ticks, after_call_work_count, after_call_work_ticks,
        idle_ticks, ringing_ticks, busy_ticks, wrap_up_ticks, not_ready_ticks, callbacks, callbacks_answered
        """;

    private const string SaveSql = $"""
        INSERT INTO routing_interval (owner_kind, grain_key, owner_id, interval_start, breakdown, breakdown_value, {Columns})
        SELECT @owner_kind, @grain_key, t.*
          FROM unnest(@owner_id, @interval_start, @breakdown, @breakdown_value,
                      @c0, @c1, @c2, @c3, @c4, @c5, @c6, @c7, @c8, @c9, @c10, @c11, @c12, @c13, @c14, @c15, @c16, @c17) AS t
        ON CONFLICT (owner_kind, grain_key, interval_start, owner_id, breakdown, breakdown_value) DO UPDATE SET
            offered = EXCLUDED.offered, answered = EXCLUDED.answered, answered_within_threshold = EXCLUDED.answered_within_threshold,
            abandoned = EXCLUDED.abandoned, overflowed = EXCLUDED.overflowed, refused = EXCLUDED.refused,
            speed_of_answer_ticks = EXCLUDED.speed_of_answer_ticks, talk_count = EXCLUDED.talk_count, talk_ticks = EXCLUDED.talk_ticks,
            after_call_work_count = EXCLUDED.after_call_work_count, after_call_work_ticks = EXCLUDED.after_call_work_ticks,
            idle_ticks = EXCLUDED.idle_ticks, ringing_ticks = EXCLUDED.ringing_ticks, busy_ticks = EXCLUDED.busy_ticks,
            wrap_up_ticks = EXCLUDED.wrap_up_ticks, not_ready_ticks = EXCLUDED.not_ready_ticks,
            callbacks = EXCLUDED.callbacks, callbacks_answered = EXCLUDED.callbacks_answered, modified_at = now()
        """;

    private const string LoadSql = $"""
        SELECT owner_id, interval_start, breakdown, breakdown_value, {Columns}
          FROM routing_interval
         WHERE owner_kind = @owner_kind AND grain_key = @grain_key AND interval_start >= @from AND interval_start < @to
        """;

    private static readonly Func<KpiCounters, long>[] Counts =
    [
        c => c.Offered, c => c.Answered, c => c.AnsweredWithinThreshold, c => c.Abandoned, c => c.Overflowed, c => c.Refused,
        c => c.SpeedOfAnswerTicks, c => c.TalkCount, c => c.TalkTicks, c => c.AfterCallWorkCount, c => c.AfterCallWorkTicks,
        c => c.IdleTicks, c => c.RingingTicks, c => c.BusyTicks, c => c.WrapUpTicks, c => c.NotReadyTicks,
        c => c.Callbacks, c => c.CallbacksAnswered,
    ];

    public async Task SaveAsync(StatsOwnerKind kind, string grainKey, IReadOnlyList<StatsCellCounts> cells, CancellationToken cancellationToken = default)
    {
        if (cells.Count == 0)
        {
            return;
        }

        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(SaveSql, connection);
            var p = command.Parameters;
            p.Add(Text("owner_kind", KindName(kind)));
            p.Add(Text("grain_key", grainKey));
            p.Add(new NpgsqlParameter<string[]>("owner_id", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. cells.Select(c => c.Cell.Owner)] });
            p.Add(new NpgsqlParameter<DateTime[]>("interval_start", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = [.. cells.Select(c => c.Cell.Interval.UtcDateTime)] });
            p.Add(new NpgsqlParameter<string[]>("breakdown", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. cells.Select(c => BreakdownName(c.Cell.Breakdown))] });
            p.Add(new NpgsqlParameter<string[]>("breakdown_value", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. cells.Select(c => c.Cell.Value)] });
            for (var i = 0; i < Counts.Length; i++)
            {
                var count = Counts[i];
                p.Add(new NpgsqlParameter<long[]>($"c{i}", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. cells.Select(c => count(c.Counters))] });
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException exception)
        {
            logger.StatsStoreFailed(exception, "write", grainKey);
            throw;
        }
    }

    public async Task<IReadOnlyList<StatsCellCounts>> LoadAsync(StatsOwnerKind kind, string grainKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(LoadSql, connection);
            command.Parameters.Add(Text("owner_kind", KindName(kind)));
            command.Parameters.Add(Text("grain_key", grainKey));
            command.Parameters.Add(Time("from", from));
            command.Parameters.Add(Time("to", to));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var cells = new List<StatsCellCounts>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var cell = new StatsCell(
                    reader.GetString(0),
                    new DateTimeOffset(reader.GetFieldValue<DateTime>(1), TimeSpan.Zero),
                    reader.GetString(2) switch { "channel" => Breakdown.Channel, "segment" => Breakdown.Segment, _ => Breakdown.Total },
                    reader.GetString(3));
                var v = new long[Counts.Length];
                for (var i = 0; i < v.Length; i++)
                {
                    v[i] = reader.GetInt64(4 + i);
                }

                cells.Add(new StatsCellCounts(cell, new KpiCounters
                {
                    Offered = v[0], Answered = v[1], AnsweredWithinThreshold = v[2], Abandoned = v[3], Overflowed = v[4], Refused = v[5],
                    SpeedOfAnswerTicks = v[6], TalkCount = v[7], TalkTicks = v[8], AfterCallWorkCount = v[9], AfterCallWorkTicks = v[10],
                    IdleTicks = v[11], RingingTicks = v[12], BusyTicks = v[13], WrapUpTicks = v[14], NotReadyTicks = v[15],
                    Callbacks = v[16], CallbacksAnswered = v[17],
                }));
            }

            return cells;
        }
        catch (NpgsqlException exception)
        {
            logger.StatsStoreFailed(exception, "read", grainKey);
            throw;
        }
    }

    private static string KindName(StatsOwnerKind kind) => kind == StatsOwnerKind.Queue ? "queue" : "agent";

    private static string BreakdownName(Breakdown breakdown) => breakdown switch
    {
        Breakdown.Channel => "channel",
        Breakdown.Segment => "segment",
        _ => "total",
    };

    private static NpgsqlParameter<string> Text(string name, string value) => new(name, NpgsqlDbType.Text) { TypedValue = value };

    /// <summary>An instant as timestamptz; beyond the year 9000 (an open end) it is clamped, which PostgreSQL still orders correctly.</summary>
    private static NpgsqlParameter<DateTime> Time(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { TypedValue = (value.Year >= 9000 ? new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero) : value).UtcDateTime };
}
