using System.Globalization;
using System.Net;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Which storage and clustering this silo runs with, and on which ports, read from configuration:
/// <c>Storage:Provider</c> (<c>memory</c>, the default), <c>Clustering:Provider</c> (<c>localhost</c>, the
/// default), <c>Orleans:SiloPort</c> (11111), <c>Orleans:GatewayPort</c> (30000) and, to run several silos on one
/// host, <c>Orleans:PrimarySiloPort</c> (the silo port of the first one). A profile that cannot run stops the
/// host at start with a message that says why, rather than starting with something other than what was asked.
/// </summary>
public sealed record ClusterProfile(string Storage, string Clustering, int SiloPort, int GatewayPort, int? PrimarySiloPort)
{
    public const string Memory = "memory";
    public const string Localhost = "localhost";
    public const string Postgres = "postgres";

    public IPEndPoint? PrimarySiloEndpoint => PrimarySiloPort is { } port ? new IPEndPoint(IPAddress.Loopback, port) : null;

    public static ClusterProfile From(IConfiguration configuration)
    {
        var storage = Provider(configuration, "Storage:Provider", Memory);
        var clustering = Provider(configuration, "Clustering:Provider", Localhost);
        if (storage == Postgres)
        {
            throw NotAvailableYet("Storage:Provider", "PostgreSQL grain storage", $"Storage:Provider={Memory}");
        }

        if (storage != Memory)
        {
            throw new InvalidOperationException($"Storage:Provider '{storage}' is not known: use '{Memory}' ('{Postgres}' is not available yet).");
        }

        if (clustering == Postgres)
        {
            throw NotAvailableYet("Clustering:Provider", "PostgreSQL clustering", $"Clustering:Provider={Localhost}");
        }

        if (clustering != Localhost)
        {
            throw new InvalidOperationException($"Clustering:Provider '{clustering}' is not known: use '{Localhost}' ('{Postgres}' is not available yet).");
        }

        return new ClusterProfile(
            storage,
            clustering,
            Port(configuration, "Orleans:SiloPort") ?? 11111,
            Port(configuration, "Orleans:GatewayPort") ?? 30000,
            Port(configuration, "Orleans:PrimarySiloPort"));
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

    private static InvalidOperationException NotAvailableYet(string key, string what, string instead) =>
        new($"{key}={Postgres} is not available yet: {what} is not part of this build. Use {instead} for now (memory storage is not durable).");
}
