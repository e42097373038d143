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

    /// <summary>
    /// The shared host's options for these settings: the postgres profile (<c>Storage:Provider=postgres</c>,
    /// <c>Clustering:Provider=postgres</c>, <c>ConnectionStrings:Routing</c>), these ports, then <see cref="Extra"/>.
    /// Logs at the Serilog level in <c>ROUTING_TEST_LOG_LEVEL</c> (default Fatal: the outage test provokes errors on
    /// purpose), for every source. Unhandled exceptions that reach the HTTP layer are recorded
    /// (<see cref="SiloHostFactory.Failures"/>).
    /// </summary>
    public SiloHostOptions Options(bool kestrel = false)
    {
        var configuration = new Dictionary<string, string>
        {
            ["Storage:Provider"] = "postgres",
            ["Clustering:Provider"] = "postgres",
            ["ConnectionStrings:Routing"] = ConnectionString,
        };
        foreach (var (key, value) in Extra)
        {
            configuration[key] = value;
        }

        return new SiloHostOptions
        {
            Settings = configuration,
            SiloPort = SiloPort,
            GatewayPort = GatewayPort,
            LogLevel = Environment.GetEnvironmentVariable("ROUTING_TEST_LOG_LEVEL") is { Length: > 0 } given ? given : "Fatal",
            LogLevelForEverySource = true,
            RecordFailures = true,
            Kestrel = kestrel,
        };
    }
}

/// <summary>The real silo host (<c>Program</c>: HTTP API and Orleans silo) in this process, with the postgres profile
/// (<see cref="HostSettings.Options"/>).</summary>
public static class RecoveryHost
{
    /// <summary>The host served in memory, started by its first client.</summary>
    public static SiloHostFactory Create(HostSettings settings) => SiloHostFactory.Create(settings.Options());

    /// <summary>The host on real Kestrel, on a free loopback port (<see cref="SiloHostFactory.BaseAddress"/>), started:
    /// for clients that need real sockets (an agent desktop's SignalR connection).</summary>
    public static SiloHostFactory OnKestrel(HostSettings settings) => SiloHostFactory.Create(settings.Options(kestrel: true));
}


