using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests;

/// <summary>
/// The real silo host (HTTP API and Orleans silo with memory storage) in this process, on the real clock.
/// Silo and gateway ports are free ports picked at start, so it runs beside a host started by hand.
/// </summary>
public class RoutingHostFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Orleans:SiloPort", FreePorts.One().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", FreePorts.One().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        Configure(builder);
    }

    /// <summary>More settings, for a host with another profile.</summary>
    protected virtual void Configure(IWebHostBuilder builder)
    {
    }

}

/// <summary>One silo host for every test class in the collection; each test uses ids of its own.</summary>
[CollectionDefinition(Name)]
public sealed class RoutingHostCollection : ICollectionFixture<RoutingHostFactory>
{
    public const string Name = "routing host";
}
