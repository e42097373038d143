using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace RoutingCluster.Client.Tests;

/// <summary>
/// The real silo host (HTTP API, agent hub, Orleans silo with memory storage) on real Kestrel, listening on a
/// free loopback port, so the client under test goes through real sockets, HTTP and WebSockets. The Orleans silo
/// and gateway ports are free ports too, so it runs beside hosts started by hand.
/// </summary>
public sealed class ClientHostFactory : WebApplicationFactory<Program>
{
    public ClientHostFactory()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    /// <summary>Where the host listens: <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client with fast retries (the backoff is real time), over <paramref name="handlers"/> when given.</summary>
    public RoutingClient CreateRoutingClient(params DelegatingHandler[] handlers)
    {
        HttpMessageHandler handler = new SocketsHttpHandler();
        foreach (var outer in handlers.Reverse())
        {
            outer.InnerHandler = handler;
            handler = outer;
        }

        return new RoutingClient(new HttpClient(handler) { BaseAddress = BaseAddress }, new RoutingClientOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Orleans:SiloPort", FreePort().ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", FreePort().ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One host for every test class in the collection; each test uses ids of its own.</summary>
[CollectionDefinition(Name)]
public sealed class ClientHostCollection : ICollectionFixture<ClientHostFactory>
{
    public const string Name = "client host";
}

internal static class Ids
{
    /// <summary>Ids unique to one test, so tests share the host without seeing each other.</summary>
    public static string New(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}

internal static class Deadline
{
    /// <summary>How long a test waits for something the host does at once (an offer pushed, an event streamed).</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);
}
