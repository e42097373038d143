using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.LoadTests.Tests;

/// <summary>
/// The real silo host (HTTP API, agent hub, Orleans silo with memory storage) on real Kestrel, on a free loopback
/// port, so the load driver goes through real sockets, HTTP and WebSockets as it does against a host started by
/// hand. The Orleans silo and gateway ports are free ports too, so it runs beside other hosts.
/// </summary>
/// <remarks><c>global::Program</c> is the silo host's entry point; the load driver has a <c>Program</c> of its own
/// in <c>RoutingCluster.LoadTests</c>.</remarks>
public sealed class LoadHostFactory : WebApplicationFactory<global::Program>
{
    public LoadHostFactory()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    /// <summary>Where the host listens: <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Orleans:SiloPort", FreePorts.One().ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", FreePorts.One().ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
    }

}

/// <summary>One host for the tests that need one.</summary>
[CollectionDefinition(Name)]
public sealed class LoadHostCollection : ICollectionFixture<LoadHostFactory>
{
    public const string Name = "load host";
}
