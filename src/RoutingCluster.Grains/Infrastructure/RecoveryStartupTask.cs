using Microsoft.Extensions.Logging;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// After a silo starts, wakes what the durable session records say must run: every queue with waiting sessions
/// (it rebuilds its waiting list and asks its agents for their availability) and every agent with an offer or a
/// wrap-up pending (its timers are re-armed on activation). Calling an active grain again is harmless, so every
/// silo may run this. A wake-up that fails is tried again a few times, then left to the other silos' recovery and to
/// the grain's next call: right after a silo was killed and started again on the same address, the cluster may still
/// route to the dead one for a moment, and that must not stop the new silo from starting.
/// </summary>
public sealed class RecoveryStartupTask(ISessionIndex index, IGrainFactory grains, ILogger<RecoveryStartupTask> logger) : IStartupTask
{
    /// <summary>Tries per wake-up, and the pause between two (real time: this paces retries, it decides nothing).</summary>
    private const int Attempts = 5;

    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    public async Task Execute(CancellationToken cancellationToken)
    {
        var plan = await index.RecoveryPlanAsync(cancellationToken);
        foreach (var queue in plan.Queues)
        {
            await WakeAsync("queue", queue, () => grains.GetGrain<IQueueGrain>(queue).GetLiveAsync(), cancellationToken);
        }

        foreach (var agent in plan.Agents)
        {
            await WakeAsync("agent", agent, () => grains.GetGrain<IAgentGrain>(agent).RepublishAsync(), cancellationToken);
        }

        if (plan.Queues.Count + plan.Agents.Count > 0)
        {
            RecoveryLog.Woke(logger, plan.Queues.Count, plan.Agents.Count);
        }
    }

    private async Task WakeAsync(string kind, string id, Func<Task> wake, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await wake();
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt == Attempts)
                {
                    RecoveryLog.WakeFailed(logger, ex, kind, id, attempt);
                    return;
                }

                await Task.Delay(RetryPause, cancellationToken);
            }
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

    [LoggerMessage(EventId = LogEventIds.RecoveryWakeFailed, Level = LogLevel.Warning, Message = "Recovery could not wake {Kind} {Id} after {Attempts} tries; it recovers on its next call or through another silo's recovery")]
    public static partial void WakeFailed(ILogger logger, Exception exception, string kind, string id, int attempts);
}
