namespace RoutingCluster.Persistence.Hosting;

/// <summary>How a silo makes sure its PostgreSQL schema is in place before Orleans' providers use it.</summary>
public sealed class PostgresSchemaOptions
{
    /// <summary>
    /// Whether the silo applies pending migrations at start (<see cref="PostgresSchema.MigrateAsync"/>).
    /// Turn it off when the silo's role may not create tables; the silo then only checks that the schema is
    /// current and refuses to start otherwise.
    /// </summary>
    /// <value><see langword="true"/> by default.</value>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>
    /// How long the silo keeps retrying at start while the database is unreachable or still starting up
    /// (for example when both are started together), before giving up and failing the silo's start.
    /// </summary>
    /// <value>30 seconds by default.</value>
    public TimeSpan DatabaseWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The distinct connection strings the configured providers use; each is migrated once.</summary>
    internal HashSet<string> ConnectionStrings { get; } = new(StringComparer.Ordinal);
}
