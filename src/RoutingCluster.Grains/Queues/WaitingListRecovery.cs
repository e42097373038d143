using Microsoft.Extensions.Logging;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Queues;

/// <summary>
/// Keeps a queue's in-memory waiting list true to the durable session records. On activation it rebuilds the list:
/// each session queued here comes back with its original arrival and place, so a queue activated after a restart or
/// on another silo loses no one. Then, every <see cref="QueueOptions.ReconcileInterval"/>, it compares the list with
/// the records: a session seen unheld once may be in transit (claimed by an agent, its offer on the way); unheld twice,
/// an interval apart, it was lost, and it is asked to come back (<see cref="ISessionGrain.ResumeAsync"/>: a no-op
/// unless it still waits here). The session grain arbitrates every offer, so taking back one that was in fact being
/// offered cannot connect it twice.
/// </summary>
internal sealed class WaitingListRecovery(
    ISessionIndex index,
    IGrainFactory grains,
    WorkTracker tracker,
    ILogger logger,
    string queueId,
    TimeSpan reconcileInterval,
    Func<string, bool> holds)
{
    /// <summary>Sessions the last comparison found waiting here but not held (null: none made yet).</summary>
    private HashSet<string>? _unheldLastTime;
    private DateTimeOffset? _nextReconcile;
    private bool _reconciling;

    /// <summary>Rebuilds the waiting list beside the queue's turns; <paramref name="done"/> runs when it is complete, failed or not.</summary>
    public void Recover(Action done) =>
        tracker.Track(async () =>
        {
            try
            {
                var queued = await index.QueuedSessionsAsync(queueId);
                foreach (var sessionId in queued)
                {
                    if (!holds(sessionId))
                    {
                        await Session(sessionId).ResumeAsync();
                    }
                }

                if (queued.Count > 0)
                {
                    RecoveryLog.QueueRecovered(logger, queueId, queued.Count);
                }
            }
            finally
            {
                done();
            }
        }, ex => logger.BackgroundWorkFailed(ex, queueId), $"recover {queueId}");

    /// <summary>When the next comparison is due (null: never, as with storage that does not survive a restart).</summary>
    public DateTimeOffset? NextDue(DateTimeOffset now, bool queueExists)
    {
        if (queueExists && reconcileInterval > TimeSpan.Zero && index is not NoSessionIndex)
        {
            _nextReconcile ??= now + reconcileInterval;
        }

        return _nextReconcile;
    }

    /// <summary>Starts a comparison if one is due and none is running (and the list is not being rebuilt).</summary>
    public void WakeIfDue(DateTimeOffset now, bool recovering, Action done)
    {
        if (!(_nextReconcile <= now))
        {
            return;
        }

        _nextReconcile = null;
        if (recovering || _reconciling)
        {
            return;
        }

        _reconciling = true;
        tracker.Track(async () =>
        {
            try
            {
                var queued = await index.QueuedSessionsAsync(queueId);
                var unheld = queued.Where(id => !holds(id)).ToHashSet(StringComparer.Ordinal);
                var lost = _unheldLastTime is { } before ? unheld.Where(before.Contains).ToList() : [];
                _unheldLastTime = unheld;
                foreach (var sessionId in lost)
                {
                    if (!holds(sessionId))
                    {
                        RecoveryLog.QueueLostSession(logger, queueId, sessionId);
                        await Session(sessionId).ResumeAsync();
                    }
                }
            }
            finally
            {
                _reconciling = false;
                done();
            }
        }, ex => logger.BackgroundWorkFailed(ex, queueId), $"reconcile {queueId}");
    }

    private ISessionGrain Session(string id) => grains.GetGrain<ISessionGrain>(id);
}
