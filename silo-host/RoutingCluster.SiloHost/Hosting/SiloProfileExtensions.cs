using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Persistence.Hosting;

namespace RoutingCluster.SiloHost.Hosting;

public static class SiloProfileExtensions
{
    /// <summary>The cluster id and service id of every RoutingCluster silo: stored state is keyed by the service
    /// id and membership by the cluster id, so both stay fixed across restarts.</summary>
    public const string ClusterName = "routing";

    /// <summary>
    /// Clustering and grain storage as the profile says. Memory storage on a silo that runs alone (localhost clustering,
    /// no primary silo) is <see cref="InProcessGrainStorage"/>; on a silo of several, Orleans' memory storage. With <c>postgres</c>, the silo advertises a stable
    /// loopback endpoint (an in-place restart replaces its own old membership row at once) and runs with the
    /// single-host membership timings; the schema is migrated at start-up before any provider touches it. Postgres
    /// storage keeps sessions in <c>routing_session</c> (storage <c>"sessions"</c>, with its session index) and runs
    /// <see cref="RecoveryStartupTask"/> when the silo starts. With <c>Hosting:Kubernetes</c> the silo runs as a pod
    /// (Orleans' <c>UseKubernetesHosting</c>), still with its membership in PostgreSQL.
    /// </summary>
    public static ISiloBuilder UseRoutingProfile(this ISiloBuilder silo, ClusterProfile profile)
    {
        var routing = profile.ConnectionString;
        if (profile.UsesPostgres)
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterName;
                o.ServiceId = ClusterName;
            });
        }

        if (profile.Clustering == ClusterProfile.Postgres && profile.Kubernetes)
        {
            // A pod. Orleans' Kubernetes hosting (registered after the cluster options above, so the pod's
            // ORLEANS_SERVICE_ID and ORLEANS_CLUSTER_ID win where set) names the silo after the pod (POD_NAME), listens
            // on every interface, labels the pod orleans/serviceId and orleans/clusterId, declares dead the silo of a
            // deleted pod, and deletes the pod of a silo the cluster declared dead, so that its Deployment starts a
            // new one. Membership keeps Orleans' default timings: the single-host ones suit silos on one machine, not
            // silos across a network.
            // The advertised address is taken from POD_IP here: Orleans' own endpoint defaults run before the
            // Kubernetes hosting's and fill it with the machine's first address, so POD_IP would never be used.
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = profile.SiloPort;
                o.GatewayPort = profile.GatewayPort;
                if (IPAddress.TryParse(Environment.GetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable), out var pod))
                {
                    o.AdvertisedIPAddress = pod;
                }
            });
            silo.UsePostgresClustering(routing!);
            silo.UseKubernetesHosting(options => options.Configure(k => k.DeleteDefunctSiloPods = true));
        }
        else if (profile.Clustering == ClusterProfile.Postgres)
        {
            silo.ConfigureEndpoints(IPAddress.Loopback, profile.SiloPort, profile.GatewayPort);
            silo.UsePostgresClustering(routing!).UseSingleHostMembership();
        }
        else
        {
            silo.UseLocalhostClustering(profile.SiloPort, profile.GatewayPort, profile.PrimarySiloEndpoint);
        }

        if (profile.Tls is { } tls)
        {
            silo.UseTls(tls.Certificate, tls.Configure);
        }

        if (profile.Storage == ClusterProfile.Postgres)
        {
            // Sessions get a table of their own (one row per session, with queue/state/time columns): queues rebuild
            // their waiting lists from it, and after a restart the recovery task wakes every queue with waiting
            // sessions and every agent with a pending offer or wrap-up, so their timers run again.
            silo.AddPostgresRoutingStorage(RoutingGrainsServiceCollectionExtensions.StorageName, routing!)
                .AddPostgresSessionStorage(RoutingGrainsServiceCollectionExtensions.SessionStorageName, routing!)
                .AddPostgresStatsStore(routing!)
                .AddPostgresAuditLog(routing!)
                .UsePostgresReminders(routing!)
                .AddStartupTask<RecoveryStartupTask>();
        }
        else if (profile.Clustering == ClusterProfile.Localhost && profile.PrimarySiloPort is null)
        {
            // One silo on its own: its grain states live in its own memory, read and written without a grain call;
            // finished sessions are kept for Storage:FinishedSessionRetention.
            silo.AddRoutingInProcessStorage(RoutingGrainsServiceCollectionExtensions.StorageName);
            silo.AddRoutingInProcessStorage(RoutingGrainsServiceCollectionExtensions.SessionStorageName,
                (options, configuration) => options.FinishedSessionRetention = FinishedSessionRetention(configuration));
        }
        else
        {
            // Several silos share memory storage only through Orleans' storage grains.
            silo.AddRoutingMemoryStorage(RoutingGrainsServiceCollectionExtensions.StorageName);
            silo.AddRoutingMemoryStorage(RoutingGrainsServiceCollectionExtensions.SessionStorageName);
        }

        // Orleans caches the address of every grain a silo has called, up to its cache size (a million by default); with a
        // session grain per customer that bound would hold a day's sessions (about 0.4 KB each), so it is lower here.
        silo.Services.AddOptions<GrainDirectoryOptions>().Configure<IConfiguration>(
            (options, configuration) => options.CacheSize = DirectoryCacheSize(configuration));
        return silo;
    }

    /// <summary>The key of the most grain addresses a silo caches (default <see cref="DefaultDirectoryCacheSize"/>).</summary>
    public const string DirectoryCacheSizeKey = "Orleans:DirectoryCacheSize";

    /// <summary>Grain addresses a silo caches unless <see cref="DirectoryCacheSizeKey"/> says otherwise: the agents and the
    /// sessions in progress of a large contact center, not every session of the day.</summary>
    public const int DefaultDirectoryCacheSize = 100_000;

    internal static int DirectoryCacheSize(IConfiguration configuration)
    {
        var value = configuration[DirectoryCacheSizeKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return DefaultDirectoryCacheSize;
        }

        return int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
            ? size
            : throw new InvalidOperationException($"{DirectoryCacheSizeKey} '{value}' is not a positive whole number.");
    }

    /// <summary>The key of the embedded profile's retention of finished sessions (default 5 minutes).</summary>
    public const string FinishedSessionRetentionKey = "Storage:FinishedSessionRetention";

    /// <summary>
    /// A grain storage in the silo's own memory (<see cref="InProcessGrainStorage"/>), states in Orleans' binary form.
    /// For a silo that runs alone: every silo would have a store of its own.
    /// </summary>
    public static ISiloBuilder AddRoutingInProcessStorage(this ISiloBuilder silo, string name,
        Action<InProcessGrainStorageOptions, IConfiguration>? configure = null)
    {
        silo.Services.AddOptions<InProcessGrainStorageOptions>(name).Configure<IConfiguration>((options, configuration) =>
            configure?.Invoke(options, configuration));
        silo.Services.AddGrainStorage(name, (provider, storageName) => new InProcessGrainStorage(
            storageName,
            provider.GetRequiredService<IOptionsMonitor<InProcessGrainStorageOptions>>().Get(storageName),
            new OrleansGrainStorageSerializer(provider.GetRequiredService<Serializer>()),
            provider.GetRequiredService<IActivatorProvider>(),
            provider.GetRequiredService<RoutingClock>()));
        return silo;
    }

    private static TimeSpan FinishedSessionRetention(IConfiguration configuration)
    {
        var value = configuration[FinishedSessionRetentionKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return TimeSpan.FromMinutes(5);
        }

        return TimeSpan.TryParse(value.Trim(), CultureInfo.InvariantCulture, out var retention) && retention > TimeSpan.Zero
            ? retention
            : throw new InvalidOperationException($"{FinishedSessionRetentionKey} '{value}' is not a positive duration (hh:mm:ss).");
    }

    /// <summary>
    /// A memory grain storage that keeps each state in Orleans' binary form (<see cref="OrleansGrainStorageSerializer"/>),
    /// as the PostgreSQL storage does, instead of the silo's default grain storage serializer (Newtonsoft JSON with type
    /// names). The binary form reads back every <c>[GenerateSerializer]</c> state, including collections whose runtime
    /// type is compiler-generated, which the JSON one writes and then cannot resolve; and it costs a tenth of the time
    /// and allocations per write (a session record: 5–7 µs instead of 60 µs and 47 KB, docs/performance.md).
    /// </summary>
    public static ISiloBuilder AddRoutingMemoryStorage(this ISiloBuilder silo, string name) =>
        silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
}
