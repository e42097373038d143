using Npgsql;
using RoutingCluster.Persistence.Hosting;
using RoutingCluster.Persistence.Tests.Grains;
using RoutingCluster.Persistence.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Persistence.Tests.Hosting;

/// <summary>The silo prepares its schema before any provider touches the database.</summary>
public sealed class SchemaStartupTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Silo_OnAnEmptyDatabase_MigratesItBeforeTheProvidersStart()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("startup"));

        await using var silo = await TestSilo.StartAsync(settings);

        Assert.Equal(PostgresSchema.LatestVersion, await PostgresSchema.GetVersionAsync(settings.ConnectionString));
        Assert.Equal(1, (await silo.Grains.GetGrain<ICounterGrain>("first").AddAsync(1, "one")).Total);
    }

    [Fact]
    public async Task Silo_WithMigrationOff_RefusesToStartOnAnUnmigratedDatabase()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("nomigrate"));

        var failure = await Record.ExceptionAsync(() =>
            TestSilo.StartAsync(settings, silo => silo.ConfigurePostgresSchema(options => options.MigrateOnStartup = false)));

        Assert.NotNull(failure);
        Assert.Contains(Chain(failure), e => e is InvalidOperationException && e.Message.Contains("MigrateOnStartup", StringComparison.Ordinal));
        Assert.Equal(0, await PostgresSchema.GetVersionAsync(settings.ConnectionString));
    }

    [Fact]
    public async Task Silo_WhenTheDatabaseStaysUnreachable_GivesUpAfterTheWaitTimeout()
    {
        var nowhere = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = FreePorts.Take(1)[0], Timeout = 2 }.ConnectionString;
        var settings = SiloSettings.ForNewCluster(nowhere);
        var started = TimeProvider.System.GetTimestamp();

        var failure = await Record.ExceptionAsync(() =>
            TestSilo.StartAsync(settings, silo => silo.ConfigurePostgresSchema(options => options.DatabaseWaitTimeout = TimeSpan.FromSeconds(2))));

        Assert.NotNull(failure);
        Assert.Contains(Chain(failure), e => e is NpgsqlException);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromSeconds(1), "the silo retried before giving up");
    }

    private static IEnumerable<Exception> Chain(Exception exception) =>
        exception is AggregateException aggregate
            ? aggregate.InnerExceptions.SelectMany(Chain).Prepend(exception)
            : exception.InnerException is { } inner ? Chain(inner).Prepend(exception) : [exception];
}
