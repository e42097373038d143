using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests;

/// <summary>
/// The real silo host (HTTP API, agent hub, Orleans silo with memory storage) on real Kestrel, listening on a
/// free loopback port, so the client under test goes through real sockets, HTTP and WebSockets. The Orleans silo
/// and gateway ports are free ports too, so it runs beside hosts started by hand.
/// <para>
/// <see cref="Join"/> starts a silo of a cluster of several in this process instead (see <see cref="TwoSiloCluster"/>).
/// </para>
/// </summary>
public sealed class ClientHostFactory : WebApplicationFactory<Program>
{
    private readonly int? _primarySiloPort;
    private readonly SharedGrainStore? _store;

    public ClientHostFactory()
        : this(primarySiloPort: null, store: null)
    {
    }

    private ClientHostFactory(int? primarySiloPort, SharedGrainStore? store)
    {
        _primarySiloPort = primarySiloPort;
        _store = store;
        SiloPort = FreePorts.One();
        GatewayPort = FreePorts.One();
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    /// <summary>Where the host listens: <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The Orleans silo-to-silo port.</summary>
    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>
    /// A silo host of a cluster in this process (localhost clustering): the first one when
    /// <paramref name="primarySiloPort"/> is null, else one that joins the silo on that port (<c>Orleans:PrimarySiloPort</c>).
    /// The grain storages live in <paramref name="store"/>, which every silo of the cluster shares, as silos share
    /// PostgreSQL in production: a grain whose silo stops comes back on another with its state. Grains are placed
    /// on the silo that first calls them (<see cref="PreferLocalPlacement"/>).
    /// </summary>
    internal static ClientHostFactory Join(int? primarySiloPort, SharedGrainStore store) => new(primarySiloPort, store);

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
        builder.UseSetting("Orleans:SiloPort", SiloPort.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", GatewayPort.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        if (_store is not { } store)
        {
            return;
        }

        if (_primarySiloPort is { } primary)
        {
            builder.UseSetting("Orleans:PrimarySiloPort", primary.ToString(CultureInfo.InvariantCulture));
        }

        builder.UseSetting("Telemetry:Dashboard", "false");
        builder.ConfigureTestServices(services =>
        {
            // Registered after the host's memory storages, so these are the ones grains get.
            foreach (var name in SharedGrainStore.StorageNames)
            {
                services.AddKeyedSingleton<IGrainStorage>(name, (provider, _) => new SharedGrainStorage(store, name, provider.GetRequiredService<Serializer>(), provider.GetRequiredService<IActivatorProvider>()));
            }

            // A grain starts on the silo whose HTTP request first called it, so a test decides where its grains live.
            services.AddSingleton<PlacementStrategy, PreferLocalPlacement>();
        });
    }

    /// <summary>A loopback port nothing listens on (at the time of asking).</summary>
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
