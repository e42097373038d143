using Npgsql;
using Orleans.Messaging;
using Orleans.Runtime.Membership;
using RoutingCluster.Persistence.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using RoutingCluster.Persistence.Hosting;

namespace RoutingCluster.Persistence.Tests.Hosting;

/// <summary>The clustering provider's contract, driven through the provider itself against the schema.</summary>
public sealed class MembershipTableContractTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task MembershipTable_AcceptsChangesOnlyAtTheCurrentTableVersion()
    {
        var connectionString = await MigratedSchemaAsync();
        var table = Membership.Table(connectionString, "cluster-a");
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);   // a second silo: the version row stays

        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var joining = Membership.Entry(11111, 1, SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(joining, empty.Version.Next()));
        var afterInsert = await table.ReadAllAsync();
        Assert.Equal(1, afterInsert.Version.Version);
        var (stored, storedETag) = Assert.Single(afterInsert.Members);
        Assert.Equal(joining.SiloAddress, stored.SiloAddress);
        Assert.Equal(joining.SiloName, stored.SiloName);
        Assert.Equal(Microseconds(joining.StartTime), stored.StartTime);
        Assert.Equal(DateTimeKind.Utc, stored.StartTime.Kind);

        // Stale version, or a silo that is already registered: refused, and the version does not move.
        Assert.False(await table.InsertRowAsync(Membership.Entry(22222, 1, SiloStatus.Joining), empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(joining, afterInsert.Version.Next()));
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);

        var active = Membership.Entry(11111, 1, SiloStatus.Active, joining.StartTime);
        active.SuspectTimes = [Tuple.Create(SiloAddress.New(System.Net.IPAddress.Loopback, 33333, 7), new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc))];
        Assert.False(await table.UpdateRowAsync(active, empty.Version.VersionEtag, empty.Version.Next()));
        Assert.True(await table.UpdateRowAsync(active, storedETag, afterInsert.Version.Next()));
        var afterUpdate = await table.ReadRowAsync(active.SiloAddress);
        Assert.Equal(2, afterUpdate.Version.Version);
        var updated = Assert.Single(afterUpdate.Members).Item1;
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(active.SuspectTimes, updated.SuspectTimes);

        // Updating a silo that has no row: refused, and the version claim is undone.
        Assert.False(await table.UpdateRowAsync(Membership.Entry(44444, 1, SiloStatus.Active), afterUpdate.Version.VersionEtag, afterUpdate.Version.Next()));
        Assert.Equal(2, (await table.ReadAllAsync()).Version.Version);

        // The heartbeat changes the time only, never the table version.
        var heartbeat = Membership.Entry(11111, 1, SiloStatus.Active, joining.StartTime);
        heartbeat.IAmAliveTime = joining.StartTime.AddSeconds(42);
        await table.UpdateIAmAliveAsync(heartbeat);
        var afterHeartbeat = await table.ReadRowAsync(heartbeat.SiloAddress);
        Assert.Equal(2, afterHeartbeat.Version.Version);
        Assert.Equal(Microseconds(heartbeat.IAmAliveTime), Assert.Single(afterHeartbeat.Members).Item1.IAmAliveTime);

        // Reading a silo that has no row still returns the table version.
        var missing = await table.ReadRowAsync(SiloAddress.New(System.Net.IPAddress.Loopback, 55555, 1));
        Assert.Empty(missing.Members);
        Assert.Equal(2, missing.Version.Version);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CleanupDefunctSiloEntries_RemovesOnlySilosDeadSinceBeforeTheCutoff(bool perRowQuery)
    {
        var connectionString = await MigratedSchemaAsync();
        if (!perRowQuery)
        {
            // A catalogue without the optional per-row query: the provider falls back to the bulk one.
            await ExecuteAsync(connectionString, "DELETE FROM orleansquery WHERE querykey = 'CleanupDefunctSiloEntryKey'");
        }

        var table = Membership.Table(connectionString, "cluster-cleanup");
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var now = DateTime.UtcNow;
        var longDead = Membership.Entry(1001, 1, SiloStatus.Dead, now.AddHours(-3));
        var recentlyDead = Membership.Entry(1002, 1, SiloStatus.Dead, now.AddMinutes(-1));
        var staleButActive = Membership.Entry(1003, 1, SiloStatus.Active, now.AddHours(-3));
        foreach (var entry in new[] { longDead, recentlyDead, staleButActive })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        await table.CleanupDefunctSiloEntriesAsync(now.AddHours(-1));

        Assert.Equal([1002, 1003], (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order());
    }

    [Fact]
    public async Task DeleteMembershipTableEntries_RemovesOneClusterOnly()
    {
        var connectionString = await MigratedSchemaAsync();
        var doomed = Membership.Table(connectionString, "cluster-doomed");
        var kept = Membership.Table(connectionString, "cluster-kept");
        foreach (var table in new[] { doomed, kept })
        {
            await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
            Assert.True(await table.InsertRowAsync(Membership.Entry(2001, 1, SiloStatus.Active), (await table.ReadAllAsync()).Version.Next()));
        }

        await doomed.DeleteMembershipTableEntriesAsync("cluster-doomed");

        Assert.Empty(await Membership.RowsAsync(connectionString, "cluster-doomed"));
        Assert.Single((await kept.ReadAllAsync()).Members);
    }

    [Fact]
    public async Task Gateways_AreTheActiveSilosThatHaveAGatewayPort()
    {
        var connectionString = await MigratedSchemaAsync();
        var table = Membership.Table(connectionString, "cluster-gateways");
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var gateway = Membership.Entry(3001, 1, SiloStatus.Active, proxyPort: 4001);
        foreach (var entry in new[] { gateway, Membership.Entry(3002, 1, SiloStatus.Active), Membership.Entry(3003, 1, SiloStatus.Dead, proxyPort: 4003) })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var provider = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = PostgresOrleansBuilderExtensions.Invariant, ConnectionString = connectionString }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = "cluster-gateways", ServiceId = "membership-tests" }));
        await provider.InitializeGatewayListProviderAsync();

        var gateways = await provider.GetGatewaysAsync();

        Assert.Equal([SiloAddress.New(gateway.SiloAddress.Endpoint.Address, 4001, 1).ToGatewayUri()], gateways);
    }

    private async Task<string> MigratedSchemaAsync()
    {
        var connectionString = await server.CreateSchemaAsync("membership");
        await PostgresSchema.MigrateAsync(connectionString);
        return connectionString;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>PostgreSQL keeps microseconds; .NET ticks are tenths of them.</summary>
    private static DateTime Microseconds(DateTime time) => new(time.Ticks - time.Ticks % 10, DateTimeKind.Utc);
}
