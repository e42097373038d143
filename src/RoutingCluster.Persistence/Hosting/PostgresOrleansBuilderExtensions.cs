using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

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
        Validate(connectionString);
        builder.Services.AddPostgresSchemaStartup(connectionString);
        return builder.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// A named grain storage in PostgreSQL (<c>AddAdoNetGrainStorage</c>), for example the routing grains'
    /// <c>"routing"</c> storage.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The storage name grains use in <c>[PersistentState(..., name)]</c>.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Further provider options (serializer, <c>DeleteStateOnClear</c>, ...).</param>
    public static ISiloBuilder AddPostgresRoutingStorage(this ISiloBuilder builder, string name, string connectionString,
        Action<AdoNetGrainStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Validate(connectionString);
        builder.Services.AddPostgresSchemaStartup(connectionString);
        return builder.AddAdoNetGrainStorage(name, options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
    }

    /// <summary>The reminder table in PostgreSQL (<c>UseAdoNetReminderService</c>; adds the reminder service).</summary>
    public static ISiloBuilder UsePostgresReminders(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Validate(connectionString);
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
        Validate(connectionString);
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

    private static void AddPostgresSchemaStartup(this IServiceCollection services, string connectionString)
    {
        services.AddOptions<PostgresSchemaOptions>().Configure(options => options.ConnectionStrings.Add(connectionString));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaStartup>());
    }

    private static void Validate(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException)
        {
            // The message names the bad keyword, never the value: connection strings carry passwords.
            throw new ArgumentException($"Not a valid Npgsql connection string: {exception.Message}", nameof(connectionString));
        }
    }
}
