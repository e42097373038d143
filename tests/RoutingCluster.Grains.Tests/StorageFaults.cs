using System.Collections.Concurrent;
using Orleans.Storage;

namespace RoutingCluster.Grains.Tests;

/// <summary>
/// Faults a test asks of the routing grains' storage, per grain: the next write fails (as a write that the storage
/// could not make, which Orleans reports as <see cref="InconsistentStateException"/>), or waits until the test lets it
/// go (a slow write). Every write is counted. Shared by the silos of the test cluster (they run in this process).
/// </summary>
public static class StorageFaults
{
    private static readonly ConcurrentDictionary<GrainId, int> Failures = new();
    private static readonly ConcurrentDictionary<GrainId, TaskCompletionSource> Holds = new();
    private static readonly ConcurrentDictionary<GrainId, int> Writes = new();
    private static readonly ConcurrentDictionary<GrainId, TaskCompletionSource> Held = new();

    /// <summary>The next write of this grain's state fails, and stores nothing.</summary>
    public static void FailNextWrite(GrainId grain) => Failures.AddOrUpdate(grain, 1, (_, n) => n + 1);

    /// <summary>The next write of this grain's state waits until <see cref="Release"/>. Returns a task that completes
    /// when that write has started (and is waiting).</summary>
    public static Task HoldNextWrite(GrainId grain)
    {
        Holds[grain] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Held[grain] = started;
        return started.Task;
    }

    public static void Release(GrainId grain)
    {
        if (Holds.TryRemove(grain, out var hold))
        {
            hold.TrySetResult();
        }
    }

    /// <summary>Writes of this grain's state that reached the storage (failed and held ones included).</summary>
    public static int WritesOf(GrainId grain) => Writes.GetValueOrDefault(grain);

    internal static async Task BeforeWriteAsync(GrainId grain)
    {
        Writes.AddOrUpdate(grain, 1, (_, n) => n + 1);
        if (Held.TryRemove(grain, out var started) && Holds.TryGetValue(grain, out var hold))
        {
            started.TrySetResult();
            await hold.Task;
        }

        if (Failures.TryGetValue(grain, out var failures) && failures > 0 && Failures.TryUpdate(grain, failures - 1, failures))
        {
            throw new InconsistentStateException($"Injected: the write of {grain} failed.");
        }
    }
}

/// <summary>A grain storage that applies <see cref="StorageFaults"/> before passing each operation to another.</summary>
internal sealed class FaultInjectingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await StorageFaults.BeforeWriteAsync(grainId);
        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
