using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace RoutingCluster.Persistence;

/// <summary>One versioned SQL script of the cluster's PostgreSQL schema, embedded in this assembly.</summary>
/// <param name="Version">The schema version the script brings the database to (1, 2, ...).</param>
/// <param name="Name">The script's name without the version, e.g. <c>clustering</c>.</param>
/// <param name="Sql">The script.</param>
/// <param name="Checksum">SHA-256 of the script (line endings normalised), recorded when it is applied.</param>
public sealed record PostgresMigration(int Version, string Name, string Sql, string Checksum);

/// <summary>
/// The PostgreSQL schema that Orleans' ADO.NET clustering, grain storage and reminder providers run on:
/// the migrations under <c>Migrations/</c> (embedded resources <c>NNNN_name.sql</c>) and the migrator that
/// applies them.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="MigrateAsync"/> is idempotent and safe to run from every silo at once: applied versions are
/// recorded in <c>routing_schema_version</c>, and pending migrations are applied in one transaction that
/// first takes a transaction-scoped advisory lock, so concurrent callers wait for the first one and then
/// find nothing left to do. A database that is already current is detected without taking the lock.
/// </para>
/// <para>
/// Objects are created unqualified, in the first schema of the connection's search path (the providers'
/// queries are unqualified too): <c>Search Path=routing</c> in the connection string keeps the cluster in
/// its own schema.
/// </para>
/// </remarks>
public static partial class PostgresSchema
{
    /// <summary>The advisory lock key that serialises migrations in a database ("ROUTING" in ASCII).</summary>
    public const long MigrationLockKey = 0x524F5554494E47;

    private const string ResourcePrefix = "RoutingCluster.Persistence.Migrations.";
    private const int MigrationCommandTimeoutSeconds = 120;

    private static readonly Lazy<IReadOnlyList<PostgresMigration>> EmbeddedMigrations = new(LoadMigrations);

    /// <summary>Every migration, in version order.</summary>
    public static IReadOnlyList<PostgresMigration> Migrations => EmbeddedMigrations.Value;

    /// <summary>The schema version this build brings a database to.</summary>
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>
    /// Brings the database to <see cref="LatestVersion"/>, applying only what is missing.
    /// </summary>
    /// <param name="connectionString">An Npgsql connection string for a role that may create tables and functions.</param>
    /// <param name="logger">Where to say what was applied; nothing is logged when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the migration (including the wait for another migrator's lock).</param>
    /// <returns>The database's schema version afterwards: <see cref="LatestVersion"/>, or higher when a newer
    /// build has already migrated it.</returns>
    public static async Task<int> MigrateAsync(string connectionString, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        logger ??= NullLogger.Instance;

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        var current = await ReadVersionAsync(connection, cancellationToken).ConfigureAwait(false);
        if (current >= LatestVersion)
        {
            logger.SchemaUpToDate(current, LatestVersion);
            return current;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", cancellationToken,
            new NpgsqlParameter<long>("key", MigrationLockKey)).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS routing_schema_version
            (
                version     integer     NOT NULL PRIMARY KEY,
                name        text        NOT NULL,
                checksum    text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken).ConfigureAwait(false);

        var applied = await ReadAppliedAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        var version = applied.Count == 0 ? 0 : applied.Keys.Max();
        foreach (var migration in Migrations)
        {
            if (applied.TryGetValue(migration.Version, out var checksum))
            {
                if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                {
                    logger.MigrationChanged(migration.Version, migration.Name);
                }

                continue;
            }

            var started = TimeProvider.System.GetTimestamp();
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction,
                "INSERT INTO routing_schema_version (version, name, checksum) VALUES (@version, @name, @checksum)",
                cancellationToken,
                new NpgsqlParameter<int>("version", migration.Version),
                new NpgsqlParameter<string>("name", migration.Name),
                new NpgsqlParameter<string>("checksum", migration.Checksum)).ConfigureAwait(false);
            logger.MigrationApplied(migration.Version, migration.Name, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
            version = Math.Max(version, migration.Version);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (version > LatestVersion)
        {
            logger.SchemaNewerThanBuild(version, LatestVersion);
        }

        return version;
    }

    /// <summary>The database's schema version: 0 when it has never been migrated.</summary>
    public static async Task<int> GetVersionAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadVersionAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('routing_schema_version') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return 0;
            }
        }

        await using var max = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM routing_schema_version", connection);
        return Convert.ToInt32(await max.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM routing_schema_version", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql,
        CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = MigrationCommandTimeoutSeconds };
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<PostgresMigration> LoadMigrations()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var migrations = new List<PostgresMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var fileName = resource[ResourcePrefix.Length..];
            var match = MigrationFileName().Match(fileName);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Embedded migration '{fileName}' is not named NNNN_name.sql.");
            }

            var sql = ReadResource(assembly, resource).ReplaceLineEndings("\n");
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            migrations.Add(new PostgresMigration(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, sql, checksum));
        }

        migrations.Sort((left, right) => left.Version.CompareTo(right.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"Embedded migrations must be numbered 1, 2, 3, ... without gaps or duplicates; found version {migrations[i].Version} at position {i + 1}.");
            }
        }

        return migrations.Count > 0 ? migrations : throw new InvalidOperationException("No embedded migrations were found.");
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded migration '{name}' could not be opened.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex MigrationFileName();
}
