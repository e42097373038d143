using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;
using RoutingCluster.Persistence.Hosting;

namespace RoutingCluster.Persistence.Tests.Infrastructure;

/// <summary>Direct access to the PostgreSQL membership table, through the provider and through SQL.</summary>
public static class Membership
{
    public static AdoNetClusteringTable Table(string connectionString, string clusterId) => new(
        new ServiceCollection().BuildServiceProvider(),
        Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "membership-tests" }),
        Options.Create(new AdoNetClusteringSiloOptions { Invariant = PostgresOrleansBuilderExtensions.Invariant, ConnectionString = connectionString }),
        NullLogger<AdoNetClusteringTable>.Instance);

    public static MembershipEntry Entry(int port, int generation, SiloStatus status, DateTime? now = null, int proxyPort = 0)
    {
        var time = now ?? DateTime.UtcNow;
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation),
            SiloName = $"silo-{port}",
            HostName = "test-host",
            Status = status,
            ProxyPort = proxyPort,
            StartTime = time,
            IAmAliveTime = time,
        };
    }

    /// <summary>Port and status of every silo row of a cluster, straight from the table.</summary>
    public static async Task<List<(int Port, int Generation, SiloStatus Status)>> RowsAsync(string connectionString, string clusterId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT port, generation, status FROM routing_membership WHERE cluster_id = @cluster ORDER BY port, generation", connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, int, SiloStatus)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetInt32(1), (SiloStatus)reader.GetInt32(2)));
        }

        return rows;
    }
}
