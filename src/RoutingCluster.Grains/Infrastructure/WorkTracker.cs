namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// Counts routing work that runs beside a grain's turns (offer attempts, timer wake-ups, notifications that
/// are not awaited), so a test can wait until the cluster is quiet and a silo can drain before it stops.
/// </summary>
public sealed class WorkTracker
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, string> _labels = new();
    private long _nextId;
    private int _inFlight;
    private TaskCompletionSource _idle = NewIdle(completed: true);

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>What is running now (for diagnostics: a drain that does not finish, a test that does not settle).</summary>
    public IReadOnlyCollection<string> Running => [.. _labels.Values];

    /// <summary>Runs <paramref name="work"/> in the background, counted until it ends. Faults are observed by <paramref name="onError"/>.</summary>
    public void Track(Func<Task> work, Action<Exception>? onError = null, string? label = null)
    {
        Enter();
        var id = Interlocked.Increment(ref _nextId);
        _labels[id] = label ?? work.Method.Name;
        _ = RunAsync(id, work, onError);
    }

    /// <summary>Completes when no tracked work is running.</summary>
    public Task WhenIdleAsync()
    {
        lock (this)
        {
            return _idle.Task;
        }
    }

    private async Task RunAsync(long id, Func<Task> work, Action<Exception>? onError)
    {
        try
        {
            await work();
        }
        catch (Exception ex)
        {
            onError?.Invoke(ex);
        }
        finally
        {
            _labels.TryRemove(id, out _);
            Exit();
        }
    }

    private void Enter()
    {
        lock (this)
        {
            if (_inFlight++ == 0)
            {
                _idle = NewIdle(completed: false);
            }
        }
    }

    private void Exit()
    {
        TaskCompletionSource? done = null;
        lock (this)
        {
            if (--_inFlight == 0)
            {
                done = _idle;
            }
        }

        done?.TrySetResult();
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            tcs.SetResult();
        }

        return tcs;
    }
}
