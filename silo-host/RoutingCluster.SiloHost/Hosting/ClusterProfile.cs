using System.Globalization;
using System.Net;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Which storage and clustering this silo runs with, and on which ports, read from configuration:
/// <c>Storage:Provider</c> (<c>memory</c>, the default, or <c>postgres</c>), <c>Clustering:Provider</c>
/// (<c>localhost</c>, the default, or <c>postgres</c>), <c>ConnectionStrings:Routing</c> (required for postgres), <c>Orleans:SiloPort</c> (11111), <c>Orleans:GatewayPort</c> (30000) and, to run several silos on one
/// host, <c>Orleans:PrimarySiloPort</c> (the silo port of the first one), and <c>Hosting:Kubernetes</c> (false; true
/// runs the silo as a Kubernetes pod, which needs <c>postgres</c> clustering), and mutual TLS between silos
/// (<see cref="SiloTls"/>, <c>Orleans:Tls:*</c>). A profile that cannot run stops the
/// host at start with a message that says why, rather than starting with something other than what was asked.
/// </summary>
public sealed record ClusterProfile(string Storage, string Clustering, int SiloPort, int GatewayPort, int? PrimarySiloPort, string? ConnectionString,
    bool Kubernetes = false, SiloTls? Tls = null)
{
    public const string Memory = "memory";
    public const string Localhost = "localhost";
    public const string Postgres = "postgres";

    public IPEndPoint? PrimarySiloEndpoint => PrimarySiloPort is { } port ? new IPEndPoint(IPAddress.Loopback, port) : null;

    public bool UsesPostgres => Storage == Postgres || Clustering == Postgres;

    public static ClusterProfile From(IConfiguration configuration)
    {
        var storage = Provider(configuration, "Storage:Provider", Memory);
        var clustering = Provider(configuration, "Clustering:Provider", Localhost);
        if (storage is not (Memory or Postgres))
        {
            throw new InvalidOperationException($"Storage:Provider '{storage}' is not known: use '{Memory}' or '{Postgres}'.");
        }

        if (clustering is not (Localhost or Postgres))
        {
            throw new InvalidOperationException($"Clustering:Provider '{clustering}' is not known: use '{Localhost}' or '{Postgres}'.");
        }

        var connectionString = configuration.GetConnectionString("Routing");
        if ((storage == Postgres || clustering == Postgres) && string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Routing is required when Storage:Provider or Clustering:Provider is 'postgres' " +
                "(for example Host=127.0.0.1;Port=5432;Username=postgres;Database=routing).");
        }

        // In a pod the silo advertises the pod's address to the other pods, which only a shared membership table
        // can tell them: localhost clustering would make every pod a cluster of its own.
        var kubernetes = Switch(configuration, "Hosting:Kubernetes");
        if (kubernetes && clustering != Postgres)
        {
            throw new InvalidOperationException(
                $"Hosting:Kubernetes needs Clustering:Provider '{Postgres}' (the silos of the pods find each other in the PostgreSQL membership table); it is '{clustering}'.");
        }

        return new ClusterProfile(
            storage,
            clustering,
            Port(configuration, "Orleans:SiloPort") ?? 11111,
            Port(configuration, "Orleans:GatewayPort") ?? 30000,
            Port(configuration, "Orleans:PrimarySiloPort"),
            string.IsNullOrWhiteSpace(connectionString) ? null : connectionString,
            kubernetes,
            SiloTls.From(configuration));
    }

    private static bool Switch(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        return bool.TryParse(value.Trim(), out var on)
            ? on
            : throw new InvalidOperationException($"{key} '{value}' is not true or false.");
    }

    private static string Provider(IConfiguration configuration, string key, string fallback)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? fallback : value.Trim().ToLowerInvariant();
    }

    private static int? Port(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new InvalidOperationException($"{key} '{value}' is not a TCP port (1 to 65535).");
    }

}
