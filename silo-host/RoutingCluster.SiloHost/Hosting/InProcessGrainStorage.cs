using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>Settings of one <see cref="InProcessGrainStorage"/>, named after the storage.</summary>
public sealed class InProcessGrainStorageOptions
{
    /// <summary>How states are kept: Orleans' binary form (<see cref="OrleansGrainStorageSerializer"/>) unless set. A
    /// stored copy, never the grain's own object, so a state reads back as it was written.</summary>
    public IGrainStorageSerializer? GrainStorageSerializer { get; set; }

    /// <summary>
    /// How long a finished session (completed, abandoned, overflowed, refused) stays after its last write; then it is
    /// forgotten and its id answers 404. <see langword="null"/>: kept for as long as the silo runs.
    /// </summary>
    public TimeSpan? FinishedSessionRetention { get; set; }
}

/// <summary>
/// Grain storage in the silo's own memory, for the single-silo embedded profile: a read or a write is a dictionary
/// operation on this process, not a call to a storage grain as Orleans' memory storage makes. Not durable: a restart
/// loses everything, as with Orleans' memory storage.
/// </summary>
/// <remarks>
/// <para>ETags behave as the PostgreSQL storages' do: integer versions; a write at a stale version, a create (no ETag)
/// over an existing state, or a clear at a stale version raises <see cref="InconsistentStateException"/>. A grain
/// created under a new key (<see cref="FreshGrainKey"/>) skips its read.</para>
/// <para>Only one silo may use it: each silo would have a store of its own. The host chooses it when the silo runs
/// alone (memory storage, localhost clustering, no primary silo to join), and Orleans' memory storage otherwise.</para>
/// <para>Finished sessions leave after <see cref="InProcessGrainStorageOptions.FinishedSessionRetention"/>: a sweep on
/// the routing clock removes each one whose retention has run out, unless it was written again since.</para>
/// </remarks>
public sealed class InProcessGrainStorage : IGrainStorage, IDisposable
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Stored> _states = new();
    private readonly ConcurrentQueue<(string State, GrainId Grain, int Version, DateTimeOffset Until)> _finished = new();
    private readonly string _name;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly RoutingClock _clock;
    private readonly TimeSpan? _retention;
    private readonly ITimer? _sweep;

    public InProcessGrainStorage(string name, InProcessGrainStorageOptions options, IGrainStorageSerializer serializer,
        IActivatorProvider activators, RoutingClock clock)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        _name = name;
        _serializer = options.GrainStorageSerializer ?? serializer;
        _activators = activators;
        _clock = clock;
        _retention = options.FinishedSessionRetention;
        if (_retention is { } retention)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero, nameof(options.FinishedSessionRetention));
            var period = TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
            _sweep = clock.Time.CreateTimer(_ => Sweep(), null, period, period);
        }
    }

    /// <summary>The serializer states are kept with.</summary>
    public IGrainStorageSerializer Serializer => _serializer;

    /// <summary>How many states are held now.</summary>
    public int Count => _states.Count;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!FreshGrainKey.IsFresh(grainId) && _states.TryGetValue((stateName, grainId), out var stored))
        {
            grainState.State = _serializer.Deserialize<T>(new BinaryData(stored.Payload)) ?? New<T>();
            grainState.ETag = stored.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = New<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        var payload = _serializer.Serialize(grainState.State).ToArray();
        int version;
        if (Version(grainState.ETag) is not { } expected)
        {
            version = 1;
            if (!_states.TryAdd(key, new Stored(payload, version)))
            {
                throw Conflict("write", stateName, grainId, grainState.ETag);
            }
        }
        else
        {
            version = expected + 1;
            if (!_states.TryGetValue(key, out var current) || current.Version != expected
                || !_states.TryUpdate(key, new Stored(payload, version), current))
            {
                throw Conflict("write", stateName, grainId, grainState.ETag);
            }
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        if (_retention is { } retention && grainState.State is SessionRecord { Exists: true } session && session.State.IsTerminal())
        {
            _finished.Enqueue((stateName, grainId, version, _clock.Now + retention));
        }

        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (Version(grainState.ETag) is { } expected)
        {
            if (!_states.TryGetValue(key, out var current) || current.Version != expected
                || !_states.TryRemove(KeyValuePair.Create(key, current)))
            {
                throw Conflict("clear", stateName, grainId, grainState.ETag);
            }
        }
        else if (_states.ContainsKey(key))
        {
            throw Conflict("clear", stateName, grainId, grainState.ETag);
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = New<T>();
        return Task.CompletedTask;
    }

    /// <summary>Forgets every finished session whose retention has run out and that was not written since.</summary>
    internal void Sweep()
    {
        var now = _clock.Now;
        while (_finished.TryPeek(out var head) && head.Until <= now && _finished.TryDequeue(out head))
        {
            var key = (head.State, head.Grain);
            if (_states.TryGetValue(key, out var current) && current.Version == head.Version)
            {
                _states.TryRemove(KeyValuePair.Create(key, current));
            }
        }
    }

    public void Dispose() => _sweep?.Dispose();

    private static int? Version(string? etag) =>
        string.IsNullOrWhiteSpace(etag) ? null : int.Parse(etag, NumberStyles.None, CultureInfo.InvariantCulture);

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? etag) => new(
        $"Version conflict ({operation}): grain storage '{_name}', {stateName} of {grainId}, ETag {etag ?? "(none: create)"}. " +
        "Another activation wrote or cleared this state meanwhile.",
        storedEtag: null,
        currentEtag: etag,
        storageException: null);

    private T New<T>() => _activators.GetActivator<T>().Create();

    private sealed record Stored(byte[] Payload, int Version);
}
