using Orleans.Storage;

namespace RoutingCluster.Persistence.Sessions;

/// <summary>Settings of one <see cref="PostgresSessionStorage"/>, named after the storage.</summary>
public sealed class PostgresSessionStorageOptions
{
    /// <summary>The Npgsql connection string of the database that holds <c>routing_session</c>.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// How the state is turned into the <c>payload</c> column. <see langword="null"/> (the default) means Orleans'
    /// own binary serializer (<see cref="OrleansGrainStorageSerializer"/>), which tolerates added and removed
    /// <c>[Id]</c> members across versions. It is not the silo-wide default (JSON), on purpose: the payload is read
    /// only by the grain, and the columns are what people query.
    /// </summary>
    public IGrainStorageSerializer? Serializer { get; set; }
}
