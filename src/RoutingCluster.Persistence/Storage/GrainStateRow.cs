using Npgsql;
using NpgsqlTypes;

namespace RoutingCluster.Persistence.Storage;

/// <summary>
/// The SQL of <c>routing_grain_state</c> (migration 0003) and its row identity, the same as the ADO.NET provider's, so
/// rows written by either read back through the other: ServiceId, the state name (the provider's "grain type"), the two
/// 64-bit halves of a Guid or integer key (0 for string keys) and the key's string part (the whole key for string keys,
/// the key extension or NULL otherwise).
/// </summary>
internal static class GrainStateRow
{
    // The predicate follows the unique index routing_grain_state_identity column for column, so every statement is an
    // index lookup (a plain "IS NOT DISTINCT FROM" on grain_id_ext would scan every string-keyed row of the type).
    private const string Identity = """
        service_id = @service_id AND grain_id_n1 = @n1 AND grain_id_n0 = @n0 AND grain_type = @grain_type
           AND (grain_id_ext IS NULL) = (@ext::text IS NULL) AND coalesce(grain_id_ext, '') = coalesce(@ext::text, '')
        """;

    public const string Read = "SELECT version, payload FROM routing_grain_state WHERE " + Identity;

    /// <summary>
    /// With no expected version: creates the row at version 1 unless one exists. With one: updates the row only at that
    /// version and moves it on by one. Returns the new version, or no row when nothing was written.
    /// </summary>
    public const string Write = """
        WITH created AS (
            INSERT INTO routing_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_ext, payload, version)
            SELECT @service_id, @grain_type, @n0, @n1, @ext::text, @payload, 1
             WHERE @expected::integer IS NULL
            ON CONFLICT DO NOTHING
            RETURNING version),
        updated AS (
            UPDATE routing_grain_state
               SET payload = @payload, version = version + 1, modified_at = now()
             WHERE @expected::integer IS NOT NULL AND version = @expected AND
        """ + " " + Identity + """

            RETURNING version)
        SELECT version FROM created
        UNION ALL
        SELECT version FROM updated
        """;

    /// <summary>Clearing keeps the row (payload NULL, version + 1) at the caller's version, as the ADO.NET provider does.</summary>
    public const string Clear = "UPDATE routing_grain_state SET payload = NULL, version = version + 1, modified_at = now() " +
        "WHERE version = @expected AND " + Identity + " RETURNING version";

    /// <summary>Clearing with <c>DeleteStateOnClear</c>: removes the row at the caller's version.</summary>
    public const string Delete = "DELETE FROM routing_grain_state WHERE version = @expected AND " + Identity + " RETURNING version + 1";

    public static void AddIdentity(NpgsqlParameterCollection p, string serviceId, string stateName, GrainId grainId)
    {
        var (n0, n1, ext) = KeyOf(grainId);
        p.Add(new NpgsqlParameter<string>("service_id", NpgsqlDbType.Text) { TypedValue = serviceId });
        p.Add(new NpgsqlParameter<string>("grain_type", NpgsqlDbType.Text) { TypedValue = stateName });
        p.Add(new NpgsqlParameter<long>("n0", NpgsqlDbType.Bigint) { TypedValue = n0 });
        p.Add(new NpgsqlParameter<long>("n1", NpgsqlDbType.Bigint) { TypedValue = n1 });
        p.Add(new NpgsqlParameter("ext", NpgsqlDbType.Text) { Value = ext is null ? DBNull.Value : ext });
    }

    public static void AddExpected(NpgsqlParameterCollection p, int? expected) =>
        p.Add(new NpgsqlParameter("expected", NpgsqlDbType.Integer) { Value = expected is { } v ? v : DBNull.Value });

    public static void AddPayload(NpgsqlParameterCollection p, byte[] payload) =>
        p.Add(new NpgsqlParameter<byte[]>("payload", NpgsqlDbType.Bytea) { TypedValue = payload });

    /// <summary>The key columns of a grain id, as the ADO.NET provider derives them.</summary>
    public static (long N0, long N1, string? Extension) KeyOf(GrainId grainId)
    {
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            Span<byte> bytes = stackalloc byte[16];
            guid.TryWriteBytes(bytes);
            return (BitConverter.ToInt64(bytes[..8]), BitConverter.ToInt64(bytes[8..]), guidExtension);
        }

        if (grainId.TryGetIntegerKey(out var integer, out var integerExtension))
        {
            return (0, integer, integerExtension);
        }

        return (0, 0, grainId.Key.ToString());
    }
}
