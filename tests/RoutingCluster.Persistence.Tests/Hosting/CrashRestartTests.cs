using Npgsql;
using RoutingCluster.Persistence.Hosting;
using RoutingCluster.Persistence.Tests.Grains;
using RoutingCluster.Persistence.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Persistence.Tests.Hosting;

/// <summary>
/// A silo killed with no chance to say goodbye leaves its row Active. These tests leave such a row (the
/// crashed silo's endpoint refuses connections, as a killed process does) and start the replacement with
/// <see cref="SingleHostMembership"/>, the settings the silo host uses for single-host restarts.
/// </summary>
public sealed class CrashRestartTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Restart_OnTheCrashedSilosEndpoint_SupersedesItsRowAndJoinsAtOnce()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("crash_same"));
        await LeaveCrashedSiloAsync(settings, settings.SiloPort);

        await using var silo = await TestSilo.StartAsync(settings);

        Assert.Equal(1, (await silo.Grains.GetGrain<ICounterGrain>("after-crash").AddAsync(1, "up")).Total);
        var rows = await Membership.RowsAsync(settings.ConnectionString, settings.ClusterId);
        Assert.Equal([SiloStatus.Dead, SiloStatus.Active], rows.OrderBy(row => row.Generation).Select(row => row.Status));
    }

    [Fact]
    public async Task Restart_OnAnotherPort_EvictsTheCrashedSiloAndJoinsWithinSeconds()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("crash_other"));
        var crashedPort = FreePorts.Take(1)[0];
        await LeaveCrashedSiloAsync(settings, crashedPort);
        var started = TimeProvider.System.GetTimestamp();

        await using var silo = await TestSilo.StartAsync(settings);

        // Orleans' defaults take about 100 s here (90 s until the heartbeat counts as stale, then probes).
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        Assert.True(elapsed < TimeSpan.FromSeconds(45), $"joined after {elapsed}");
        var rows = await Membership.RowsAsync(settings.ConnectionString, settings.ClusterId);
        Assert.Equal(SiloStatus.Dead, rows.Single(row => row.Port == crashedPort).Status);
        Assert.Equal(SiloStatus.Active, rows.Single(row => row.Port == settings.SiloPort).Status);
    }

    /// <summary>The row a silo that has just been killed leaves behind: Active, with a fresh heartbeat.</summary>
    private static async Task LeaveCrashedSiloAsync(SiloSettings settings, int port)
    {
        await PostgresSchema.MigrateAsync(settings.ConnectionString);
        var table = Membership.Table(settings.ConnectionString, settings.ClusterId);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var crashed = Membership.Entry(port, generation: 1, SiloStatus.Active, proxyPort: settings.GatewayPort);
        Assert.True(await table.InsertRowAsync(crashed, (await table.ReadAllAsync()).Version.Next()));
    }
}
