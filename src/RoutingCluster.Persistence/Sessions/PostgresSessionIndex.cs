using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Persistence.Sessions;

/// <summary>
/// The grains' <see cref="ISessionIndex"/> over <c>routing_session</c>, the rows <see cref="PostgresSessionStorage"/>
/// writes: a queue rebuilds its waiting list from it on activation, and <see cref="RecoveryStartupTask"/> finds what
/// to wake after a restart. Both queries run on partial indexes that hold only the sessions waiting or pending
/// right now (migration 0005).
/// </summary>
public sealed class PostgresSessionIndex(string connectionString, ILogger<PostgresSessionIndex> logger) : ISessionIndex
{
    private const string QueuedSql = """
        SELECT id FROM routing_session
         WHERE queue_id = @queue_id AND state = 'queued'
         ORDER BY queued_at, id
        """;

    private const string PlanSql = """
        SELECT DISTINCT 'q', queue_id FROM routing_session WHERE state = 'queued'
        UNION ALL
        SELECT DISTINCT 'a', agent_id FROM routing_session WHERE state IN ('offered', 'wrap-up') AND agent_id IS NOT NULL
        """;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> QueuedSessionsAsync(string queueId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queueId);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(QueuedSql, connection);
            command.Parameters.Add(new NpgsqlParameter<string>("queue_id", NpgsqlDbType.Text) { TypedValue = queueId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var ids = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }
        catch (NpgsqlException exception)
        {
            logger.SessionIndexFailed(exception, "queued sessions");
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<RecoveryPlan> RecoveryPlanAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(PlanSql, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var queues = new List<string>();
            var agents = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                (reader.GetString(0) == "q" ? queues : agents).Add(reader.GetString(1));
            }

            queues.Sort(StringComparer.Ordinal);
            agents.Sort(StringComparer.Ordinal);
            return new RecoveryPlan(queues, agents);
        }
        catch (NpgsqlException exception)
        {
            logger.SessionIndexFailed(exception, "recovery plan");
            throw;
        }
    }
}
