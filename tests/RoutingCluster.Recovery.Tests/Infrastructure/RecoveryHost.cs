using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>What a silo host of these tests runs with. Two hosts built from the same settings are the same silo
/// restarted in place: same database, same silo and gateway ports. Several hosts made with <see cref="For"/> on one
/// connection string are the silos of one cluster (postgres membership), each on its own ports.</summary>
public sealed record HostSettings(string ConnectionString, int SiloPort, int GatewayPort)
{
    /// <summary>More configuration (key, value), applied after the profile's: for example <c>Stats:PersistInterval</c>.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    public static HostSettings For(string connectionString)
    {
        var ports = FreePorts.Take(2);
        return new HostSettings(connectionString, ports[0], ports[1]);
    }

    /// <summary>The silos of one cluster on one connection string: distinct ports, all picked at once.</summary>
    public static HostSettings[] ForCluster(string connectionString, int silos)
    {
        var ports = FreePorts.Take(2 * silos);
        return [.. Enumerable.Range(0, silos).Select(i => new HostSettings(connectionString, ports[2 * i], ports[(2 * i) + 1]))];
    }

}

/// <summary>
/// The real silo host (<c>Program</c>: HTTP API and Orleans silo) in this process, with the postgres profile:
/// <c>Storage:Provider=postgres</c>, <c>Clustering:Provider=postgres</c>, <c>ConnectionStrings:Routing</c>. Logs at
/// the Serilog level in <c>ROUTING_TEST_LOG_LEVEL</c> (default Fatal: the outage test provokes errors on purpose).
/// Unhandled exceptions that reach the HTTP layer are recorded in <see cref="Failures"/> (and then handled as usual).
/// </summary>
public sealed class RecoveryHost(HostSettings settings) : WebApplicationFactory<Program>
{
    public ConcurrentQueue<(string Path, Exception Exception)> Failures { get; } = new();

    private Uri? _baseAddress;

    /// <summary>Where the host listens when started with <see cref="OnKestrel"/>: <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress => _baseAddress ?? throw new InvalidOperationException("Not started with OnKestrel.");

    /// <summary>The host on real Kestrel, on a free loopback port (<see cref="BaseAddress"/>), started: for clients that
    /// need real sockets (an agent desktop's SignalR connection).</summary>
    public static RecoveryHost OnKestrel(HostSettings settings)
    {
        var host = new RecoveryHost(settings);
        try
        {
            host.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            host.StartServer();
            var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            host._baseAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)) + "/");
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:Provider", "postgres");
        builder.UseSetting("Clustering:Provider", "postgres");
        builder.UseSetting("ConnectionStrings:Routing", settings.ConnectionString);
        builder.UseSetting("Orleans:SiloPort", settings.SiloPort.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", settings.GatewayPort.ToString(CultureInfo.InvariantCulture));
        foreach (var (key, value) in settings.Extra)
        {
            builder.UseSetting(key, value);
        }

        var level = Environment.GetEnvironmentVariable("ROUTING_TEST_LOG_LEVEL") is { Length: > 0 } given ? given : "Fatal";
        builder.UseSetting("Serilog:MinimumLevel:Default", level);
        foreach (var source in new[] { "Microsoft", "Orleans", "Microsoft.Hosting.Lifetime", "Polly" })
        {
            builder.UseSetting($"Serilog:MinimumLevel:Override:{source}", level);
        }

        builder.ConfigureTestServices(services => services.AddSingleton<IExceptionHandler>(new FailureRecorder(Failures)));
    }

    /// <summary>Notes the exception and leaves it to the host's own handling (status code, problem details).</summary>
    private sealed class FailureRecorder(ConcurrentQueue<(string, Exception)> failures) : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            failures.Enqueue(($"{httpContext.Request.Method} {httpContext.Request.Path}", exception));
            return ValueTask.FromResult(false);
        }
    }
}
