using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using RoutingCluster.Persistence.Hosting;
using RoutingCluster.Persistence.Tests.Grains;
using RoutingCluster.Persistence.Tests.Infrastructure;

namespace RoutingCluster.Persistence.Tests.Hosting;

public sealed class TwoSiloClusterTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task TwoSilos_OnDistinctPorts_FormOneClusterThatServesCallsThroughEither()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("two"));
        await using var first = await TestSilo.StartAsync(settings);
        await using var second = await TestSilo.StartAsync(settings.OnOtherPorts());

        // Both are Active in the table, and each sees the other.
        var rows = await Membership.RowsAsync(settings.ConnectionString, settings.ClusterId);
        Assert.Equal(
            new[] { first.Settings.SiloPort, second.Settings.SiloPort }.Order(),
            rows.Where(row => row.Status == SiloStatus.Active).Select(row => row.Port).Order());
        foreach (var silo in new[] { first, second })
        {
            await Eventually.ReturnsAsync(() => silo.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
                hosts => hosts.Count == 2, TimeSpan.FromSeconds(15), $"silo on port {silo.Settings.SiloPort} sees both silos");
        }

        // One grain, one state, whichever silo the call comes through.
        await first.Grains.GetGrain<ICounterGrain>("shared").AddAsync(1, "via first");
        var viaSecond = await second.Grains.GetGrain<ICounterGrain>("shared").AddAsync(1, "via second");
        Assert.Equal(2, viaSecond.Total);

        // An external client finds the gateways in the membership table.
        var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        clientBuilder.UseOrleansClient(client => client
            .Configure<ClusterOptions>(options =>
            {
                options.ClusterId = settings.ClusterId;
                options.ServiceId = settings.ServiceId;
            })
            .UsePostgresClustering(settings.ConnectionString));
        using var clientHost = clientBuilder.Build();
        await clientHost.StartAsync();
        var viaClient = await clientHost.Services.GetRequiredService<IClusterClient>().GetGrain<ICounterGrain>("shared").AddAsync(1, "via client");
        Assert.Equal(3, viaClient.Total);
        Assert.Equal(["via first", "via second", "via client"], viaClient.Notes);
        await clientHost.StopAsync();
    }
}
