using System.Reflection;
using Npgsql;
using Orleans.Runtime.MembershipService;
using RoutingCluster.Persistence.Tests.Infrastructure;

namespace RoutingCluster.Persistence.Tests.Migrations;

public sealed class SchemaMigrationTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public void Migrations_AreNumberedFromOneWithoutGaps()
    {
        Assert.Equal(Enumerable.Range(1, PostgresSchema.Migrations.Count), PostgresSchema.Migrations.Select(m => m.Version));
        Assert.Equal(["orleans_core", "clustering", "storage", "reminders", "sessions", "intervals", "interval_callbacks", "audit", "session_pseudonym"], PostgresSchema.Migrations.Select(m => m.Name));
    }

    [Fact]
    public async Task Migrate_OnAnEmptyDatabase_AppliesEveryMigrationOnce()
    {
        var connectionString = await server.CreateSchemaAsync("empty");
        Assert.Equal(0, await PostgresSchema.GetVersionAsync(connectionString));

        var version = await PostgresSchema.MigrateAsync(connectionString);

        Assert.Equal(PostgresSchema.LatestVersion, version);
        Assert.Equal(PostgresSchema.LatestVersion, await PostgresSchema.GetVersionAsync(connectionString));
        var history = await HistoryAsync(connectionString);
        Assert.Equal(PostgresSchema.Migrations.Select(m => (m.Version, m.Checksum)), history.Select(h => (h.Version, h.Checksum)));
    }

    [Fact]
    public async Task Migrate_RunTwice_LeavesVersionAndHistoryUnchanged()
    {
        var connectionString = await server.CreateSchemaAsync("twice");
        await PostgresSchema.MigrateAsync(connectionString);
        var before = await HistoryAsync(connectionString);
        var queriesBefore = await QueryCatalogAsync(connectionString);

        var version = await PostgresSchema.MigrateAsync(connectionString);

        Assert.Equal(PostgresSchema.LatestVersion, version);
        Assert.Equal(before, await HistoryAsync(connectionString));
        Assert.Equal(queriesBefore, await QueryCatalogAsync(connectionString));
    }

    [Fact]
    public async Task Migrate_FromManySilosAtOnce_AppliesEachMigrationExactlyOnce()
    {
        var connectionString = await server.CreateSchemaAsync("concurrent");
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var migrations = Enumerable.Range(0, 8).Select(async _ =>
        {
            await go.Task;
            return await PostgresSchema.MigrateAsync(connectionString);
        }).ToArray();

        go.SetResult();
        var versions = await Task.WhenAll(migrations);

        Assert.All(versions, version => Assert.Equal(PostgresSchema.LatestVersion, version));
        var history = await HistoryAsync(connectionString);
        Assert.Equal(PostgresSchema.Migrations.Select(m => m.Version), history.Select(h => h.Version));
    }

    [Fact]
    public async Task QueryCatalog_HoldsEveryQueryTheProvidersRequire()
    {
        var connectionString = await server.CreateSchemaAsync("catalog");
        await PostgresSchema.MigrateAsync(connectionString);
        var catalog = await QueryCatalogAsync(connectionString);

        // The providers validate their catalogue against the properties of their internal DbStoredQueries
        // class; grain storage reads four fixed keys.
        var required = RequiredQueryKeys(typeof(AdoNetClusteringTable).Assembly)
            .Concat(RequiredQueryKeys(typeof(Orleans.Configuration.AdoNetReminderTableOptions).Assembly))
            .Concat(["ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey"])
            .ToHashSet();

        Assert.Equal(9 + 7 + 4, required.Count);
        Assert.Empty(required.Except(catalog.Keys));
        Assert.Contains("CleanupDefunctSiloEntryKey", catalog.Keys);   // the optional per-row clean-up
        Assert.Empty(catalog.Keys.Except(required).Except(["CleanupDefunctSiloEntryKey"]));
    }

    private static IEnumerable<string> RequiredQueryKeys(Assembly providerAssembly)
    {
        var storedQueries = providerAssembly.GetTypes().Single(type => type.Name == "DbStoredQueries");
        return storedQueries.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic).Select(property => property.Name);
    }

    private static async Task<List<(int Version, string Checksum, DateTime AppliedAt)>> HistoryAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version, checksum, applied_at FROM routing_schema_version ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string, DateTime)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1), reader.GetDateTime(2)));
        }

        return rows;
    }

    private static async Task<Dictionary<string, string>> QueryCatalogAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT querykey, querytext FROM orleansquery", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0), reader.GetString(1));
        }

        return rows;
    }
}
