using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Runtime;

namespace RoutingCluster.Persistence.Hosting;

/// <summary>
/// Brings the PostgreSQL schema up to date as the first step of the silo's start, before any Orleans
/// provider opens the database (membership initialises at <see cref="ServiceLifecycleStage.RuntimeGrainServices"/>,
/// grain storage at <see cref="ServiceLifecycleStage.ApplicationServices"/>, reminders later still).
/// </summary>
/// <remarks>
/// Running inside the silo lifecycle rather than while the host is being built keeps the migration
/// asynchronous and cancellable by the host's start-up token, and a migration failure fails the silo's
/// start with the database error. Several silos starting at once are serialised by the migrator's advisory
/// lock; a database that is not reachable yet is retried for <see cref="PostgresSchemaOptions.DatabaseWaitTimeout"/>.
/// </remarks>
internal sealed class PostgresSchemaStartup(
    IOptions<PostgresSchemaOptions> options,
    ILogger<PostgresSchemaStartup> logger,
    TimeProvider? timeProvider = null) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Just before the runtime initialises: ahead of everything that touches the database.</summary>
    public const int Stage = ServiceLifecycleStage.RuntimeInitialize - 1;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly TimeProvider time = timeProvider ?? TimeProvider.System;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), Stage, EnsureSchemasAsync, _ => Task.CompletedTask);

    private async Task EnsureSchemasAsync(CancellationToken cancellationToken)
    {
        foreach (var connectionString in options.Value.ConnectionStrings)
        {
            await EnsureSchemaAsync(connectionString, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EnsureSchemaAsync(string connectionString, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var endpoint = Describe(connectionString);
        var started = time.GetTimestamp();
        var deadline = time.GetUtcNow() + settings.DatabaseWaitTimeout;
        while (true)
        {
            try
            {
                var version = settings.MigrateOnStartup
                    ? await PostgresSchema.MigrateAsync(connectionString, logger, cancellationToken).ConfigureAwait(false)
                    : await PostgresSchema.GetVersionAsync(connectionString, cancellationToken).ConfigureAwait(false);
                if (version < PostgresSchema.LatestVersion)
                {
                    throw new InvalidOperationException(
                        $"The PostgreSQL schema at {endpoint} is at version {version} but this build needs {PostgresSchema.LatestVersion}, " +
                        $"and {nameof(PostgresSchemaOptions)}.{nameof(PostgresSchemaOptions.MigrateOnStartup)} is off: " +
                        $"run {nameof(PostgresSchema)}.{nameof(PostgresSchema.MigrateAsync)} with a role that may create tables.");
                }

                logger.SchemaReady(endpoint, version, time.GetElapsedTime(started).TotalMilliseconds);
                return;
            }
            catch (NpgsqlException exception) when (exception.IsTransient && time.GetUtcNow() + RetryDelay < deadline && !cancellationToken.IsCancellationRequested)
            {
                logger.DatabaseNotReachable(endpoint, exception.Message, deadline);
            }

            await Task.Delay(RetryDelay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Host, port and database only: never the credentials.</summary>
    private static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
