using Microsoft.Extensions.Logging;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// After a silo starts, wakes what the durable session records say must run: every queue with waiting sessions
/// (it rebuilds its waiting list and asks its agents for their availability) and every agent with an offer or a
/// wrap-up pending (its timers are re-armed on activation). Calling an active grain again is harmless, so every
/// silo may run this.
/// </summary>
public sealed class RecoveryStartupTask(ISessionIndex index, IGrainFactory grains, ILogger<RecoveryStartupTask> logger) : IStartupTask
{
    public async Task Execute(CancellationToken cancellationToken)
    {
        var plan = await index.RecoveryPlanAsync(cancellationToken);
        foreach (var queue in plan.Queues)
        {
            await grains.GetGrain<IQueueGrain>(queue).GetLiveAsync();
        }

        foreach (var agent in plan.Agents)
        {
            await grains.GetGrain<IAgentGrain>(agent).RepublishAsync();
        }

        if (plan.Queues.Count + plan.Agents.Count > 0)
        {
            RecoveryLog.Woke(logger, plan.Queues.Count, plan.Agents.Count);
        }
    }
}

internal static partial class RecoveryLog
{
    [LoggerMessage(EventId = LogEventIds.RecoveryWoke, Level = LogLevel.Information, Message = "Recovery woke {Queues} queue(s) with waiting sessions and {Agents} agent(s) with pending offers or wrap-ups")]
    public static partial void Woke(ILogger logger, int queues, int agents);

    [LoggerMessage(EventId = LogEventIds.QueueRecovered, Level = LogLevel.Information, Message = "Queue {QueueId} recovered {Count} waiting session(s) from the session records")]
    public static partial void QueueRecovered(ILogger logger, string queueId, int count);

    [LoggerMessage(EventId = LogEventIds.QueueLostSession, Level = LogLevel.Warning, Message = "Queue {QueueId} did not hold session {SessionId}, which its record says is waiting there; it is taken back")]
    public static partial void QueueLostSession(ILogger logger, string queueId, string sessionId);
}
