using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Persistence.Audit;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Persistence.Sessions;
using RoutingCluster.Persistence.Stats;
using RoutingCluster.Persistence.Storage;

namespace RoutingCluster.Persistence.Hosting;

/// <summary>
/// Orleans' ADO.NET clustering, grain storage and reminders on PostgreSQL, on the schema of
/// <see cref="PostgresSchema"/>. Every silo-side method also registers the schema start-up step
/// (<see cref="PostgresSchemaOptions"/>): the first thing the silo does when it starts is migrate (or check)
/// the database, so the providers never meet a missing or older schema.
/// </summary>
public static class PostgresOrleansBuilderExtensions
{
    /// <summary>The ADO.NET invariant name Orleans resolves Npgsql by.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Cluster membership in PostgreSQL (<c>UseAdoNetClustering</c>).</summary>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        connectionString = Tune(connectionString);
        builder.Services.AddPostgresSchemaStartup(connectionString);
        return builder.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// A named grain storage in PostgreSQL on <c>routing_grain_state</c> (<see cref="PostgresGrainStorage"/>: the rows of
    /// Orleans' ADO.NET storage, written through the silo's group commit), for example the routing grains'
    /// <c>"routing"</c> storage.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The storage name grains use in <c>[PersistentState(..., name)]</c>.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Further options (serializer, <c>DeleteStateOnClear</c>). The serializer defaults to
    /// Orleans' binary serializer (<see cref="OrleansGrainStorageSerializer"/>).</param>
    /// <remarks>A write or clear that fails (database unreachable, connection lost) is raised as an
    /// <see cref="InconsistentStateException"/> around the database error, so Orleans resets the activation and
    /// its next one reads what is stored (see <c>WriteFailures</c>).</remarks>
    public static ISiloBuilder AddPostgresRoutingStorage(this ISiloBuilder builder, string name, string connectionString,
        Action<PostgresGrainStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        connectionString = Tune(connectionString);
        var services = builder.Services;
        services.AddPostgresSchemaStartup(connectionString);
        services.AddPostgresGroupCommit();
        services.AddOptions<PostgresGrainStorageOptions>(name).Configure(options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });

        // Unless the caller chose one: Orleans' binary serializer, not the silo-wide default (Newtonsoft JSON with
        // $type names and a type allow-list). The routing grains' states hold routing-policy types that reach
        // Orleans through surrogates only, and collections whose runtime types are compiler-generated (a
        // collection expression assigned to IReadOnlyList<T>): JSON writes those, then refuses to read them back
        // after a restart. The binary serializer round-trips every [GenerateSerializer] state and tolerates
        // added and removed [Id] members.
        services.AddGrainStorage(name, (provider, storageName) =>
        {
            var options = provider.GetRequiredService<IOptionsMonitor<PostgresGrainStorageOptions>>().Get(storageName);
            return new PostgresGrainStorage(
                storageName,
                provider.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                options,
                options.Serializer ?? new OrleansGrainStorageSerializer(provider.GetRequiredService<Serializer>()),
                provider.GetRequiredService<PostgresWriteBatchers>().For(options.ConnectionString),
                provider.GetRequiredService<IActivatorProvider>(),
                provider.GetRequiredService<ILogger<PostgresGrainStorage>>());
        });
        return builder;
    }

    /// <summary>
    /// Changes how the PostgreSQL grain storages of this silo group their writes into transactions
    /// (<see cref="PostgresGroupCommitOptions"/>).
    /// </summary>
    public static ISiloBuilder ConfigurePostgresGroupCommit(this ISiloBuilder builder, Action<PostgresGroupCommitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// The session grains' storage in PostgreSQL (<see cref="PostgresSessionStorage"/>: one <c>routing_session</c>
    /// row per session, with queryable columns), and <see cref="PostgresSessionIndex"/> over that table as the
    /// silo's <see cref="ISessionIndex"/>, replacing the <see cref="NoSessionIndex"/> of a memory cluster.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The storage name session grains use (<c>"sessions"</c>, RoutingGrainsServiceCollectionExtensions.SessionStorageName).</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Further options (the payload serializer).</param>
    public static ISiloBuilder AddPostgresSessionStorage(this ISiloBuilder builder, string name, string connectionString,
        Action<PostgresSessionStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        connectionString = Tune(connectionString);
        var services = builder.Services;
        services.AddPostgresSchemaStartup(connectionString);
        services.AddOptions<PostgresSessionStorageOptions>(name).Configure(options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
        services.AddPostgresGroupCommit();
        services.AddGrainStorage(name, (provider, storageName) => new PostgresSessionStorage(
            storageName,
            provider.GetRequiredService<IOptionsMonitor<PostgresSessionStorageOptions>>().Get(storageName),
            new OrleansGrainStorageSerializer(provider.GetRequiredService<Serializer>()),
            provider.GetRequiredService<IActivatorProvider>(),
            provider.GetRequiredService<ILogger<PostgresSessionStorage>>(),
            provider.GetRequiredService<PostgresWriteBatchers>().For(connectionString),
            provider.GetRequiredService<PostgresSessionReaders>().For(connectionString)));
        services.TryAddSingleton<PostgresSessionReaders>();

        // Whether AddRoutingGrains (which only TryAdds NoSessionIndex) runs before or after this, the index is this one.
        services.RemoveAll<ISessionIndex>();
        services.AddSingleton<ISessionIndex>(provider => new PostgresSessionIndex(connectionString, provider.GetRequiredService<ILogger<PostgresSessionIndex>>()));
        return builder;
    }

    /// <summary>
    /// The live statistics' 15-minute intervals in <c>routing_interval</c> (migration 0006) instead of memory: the day's
    /// figures survive a restart of the whole cluster, and analysts query them in SQL.
    /// </summary>
    public static ISiloBuilder AddPostgresStatsStore(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        connectionString = Tune(connectionString);
        var services = builder.Services;
        services.AddPostgresSchemaStartup(connectionString);
        services.RemoveAll<IStatsStore>();
        services.AddSingleton<IStatsStore>(provider => new PostgresStatsStore(connectionString, provider.GetRequiredService<ILogger<PostgresStatsStore>>()));
        return builder;
    }

    /// <summary>
    /// The audit log in <c>routing_audit</c> (migration 0008: append-only) instead of the silo's memory: one log for every
    /// silo, written through the silo's group commit, kept across restarts.
    /// </summary>
    public static ISiloBuilder AddPostgresAuditLog(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        connectionString = Tune(connectionString);
        var services = builder.Services;
        services.AddPostgresSchemaStartup(connectionString);
        services.AddPostgresGroupCommit();
        services.RemoveAll<IAuditLog>();
        services.AddSingleton<IAuditLog>(provider => new PostgresAuditLog(
            connectionString,
            provider.GetRequiredService<PostgresWriteBatchers>().For(connectionString),
            provider.GetRequiredService<ILogger<PostgresAuditLog>>()));
        return builder;
    }

    /// <summary>The reminder table in PostgreSQL (<c>UseAdoNetReminderService</c>; adds the reminder service).</summary>
    public static ISiloBuilder UsePostgresReminders(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        connectionString = Tune(connectionString);
        builder.Services.AddPostgresSchemaStartup(connectionString);
        return builder.UseAdoNetReminderService(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// For an external client: finds the cluster's gateways in the PostgreSQL membership table. A client never
    /// migrates the schema; the silos do.
    /// </summary>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        connectionString = Tune(connectionString);
        return builder.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>Changes how the silo prepares the schema at start (see <see cref="PostgresSchemaOptions"/>).</summary>
    public static ISiloBuilder ConfigurePostgresSchema(this ISiloBuilder builder, Action<PostgresSchemaOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Applies <see cref="SingleHostMembership.Configure"/>: the membership settings recommended when the
    /// cluster runs on one host and a silo that crashed is restarted in place.
    /// </summary>
    public static ISiloBuilder UseSingleHostMembership(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<ClusterMembershipOptions>(SingleHostMembership.Configure);
        return builder;
    }

    /// <summary>One group commit per database for the silo, shared by its PostgreSQL grain storages.</summary>
    private static void AddPostgresGroupCommit(this IServiceCollection services)
    {
        services.AddOptions<PostgresGroupCommitOptions>();
        services.TryAddSingleton(provider => new PostgresWriteBatchers(
            provider.GetRequiredService<IOptions<PostgresGroupCommitOptions>>().Value,
            provider.GetRequiredService<ILoggerFactory>()));
    }

    private static void AddPostgresSchemaStartup(this IServiceCollection services, string connectionString)
    {
        services.AddOptions<PostgresSchemaOptions>().Configure(options => options.ConnectionStrings.Add(connectionString));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaStartup>());
    }

    /// <summary>
    /// Checks the connection string, and adds the Npgsql settings the providers' statement pattern needs unless the
    /// string sets them itself (the same keyword, spaces and case aside):
    /// <list type="bullet">
    /// <item><c>Max Auto Prepare=32</c> and <c>Auto Prepare Min Usages=2</c>: the few statements run thousands of
    /// times a minute (the session-record upsert, the grain-state upsert and read) are prepared once per pooled
    /// connection, so the server parses and plans them once, not on every call.</item>
    /// <item><c>No Reset On Close=true</c>: a connection going back to the pool is not reset with <c>DISCARD ALL</c>,
    /// which the server counted as one transaction per statement (half of all its commits in a load run). None of
    /// the SQL here leaves session state on a connection: the migration lock is transaction-scoped, and nothing uses
    /// <c>SET</c>, temporary tables or <c>LISTEN</c>.</item>
    /// </list>
    /// </summary>
    public static string Tune(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException)
        {
            // The message names the bad keyword, never the value: connection strings carry passwords.
            throw new ArgumentException($"Not a valid Npgsql connection string: {exception.Message}", nameof(connectionString));
        }

        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>().Select(k => k.Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
        if (!given.Contains("MAXAUTOPREPARE"))
        {
            builder.MaxAutoPrepare = 32;
        }

        if (!given.Contains("AUTOPREPAREMINUSAGES"))
        {
            builder.AutoPrepareMinUsages = 2;
        }

        if (!given.Contains("NORESETONCLOSE"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }
}
