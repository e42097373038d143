using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests;

/// <summary>
/// Two real silo hosts in this process forming one cluster (localhost clustering: <see cref="B"/> joins
/// <see cref="A"/>, the primary), each with the HTTP API and the agent hub on Kestrel on a free loopback port. Their
/// grain storages are one <see cref="SharedGrainStore"/>, as several silos share one PostgreSQL in production, so
/// queues, agents and sessions outlive the silo that last held them. A grain starts on the silo whose HTTP API first
/// called it.
/// </summary>
public sealed class TwoSiloCluster : IAsyncDisposable
{
    private TwoSiloCluster(SiloHostFactory a, SiloHostFactory b, SharedGrainStore store)
    {
        A = a;
        B = b;
        Store = store;
    }

    /// <summary>The primary silo (the others join it).</summary>
    public SiloHostFactory A { get; }

    /// <summary>The second silo, joined to <see cref="A"/>.</summary>
    public SiloHostFactory B { get; }

    internal SharedGrainStore Store { get; }

    /// <summary>Starts <see cref="A"/>, then <see cref="B"/>; each also gets <paramref name="settingsOfA"/> or
    /// <paramref name="settingsOfB"/> (for example its TLS certificate).</summary>
    public static TwoSiloCluster Start(IReadOnlyDictionary<string, string>? settingsOfA = null, IReadOnlyDictionary<string, string>? settingsOfB = null)
    {
        var store = new SharedGrainStore();
        var a = Join(primarySiloPort: null, store, settingsOfA);
        try
        {
            return new TwoSiloCluster(a, Join(a.SiloPort, store, settingsOfB), store);
        }
        catch
        {
            a.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A silo host of the cluster on Kestrel (localhost clustering): the first one when <paramref name="primarySiloPort"/>
    /// is null, else one that joins the silo on that port (<c>Orleans:PrimarySiloPort</c>). The grain storages live in
    /// <paramref name="store"/>, which every silo of the cluster shares, as silos share PostgreSQL in production: a grain
    /// whose silo stops comes back on another with its state. Grains are placed on the silo that first calls them
    /// (<see cref="PreferLocalPlacement"/>).
    /// </summary>
    private static SiloHostFactory Join(int? primarySiloPort, SharedGrainStore store, IReadOnlyDictionary<string, string>? extra)
    {
        var settings = new Dictionary<string, string>(extra ?? new Dictionary<string, string>()) { ["Telemetry:Dashboard"] = "false" };
        if (primarySiloPort is { } primary)
        {
            settings["Orleans:PrimarySiloPort"] = primary.ToString(CultureInfo.InvariantCulture);
        }

        return SiloHostFactory.Create(new SiloHostOptions
        {
            Kestrel = true,
            Settings = settings,
            Services = services =>
            {
                // Registered after the host's memory storages, so these are the ones grains get.
                foreach (var name in SharedGrainStore.StorageNames)
                {
                    services.AddKeyedSingleton<IGrainStorage>(name, (provider, _) => new SharedGrainStorage(store, name, provider.GetRequiredService<Serializer>(), provider.GetRequiredService<IActivatorProvider>()));
                }

                // A grain starts on the silo whose HTTP request first called it, so a test decides where its grains live.
                services.AddSingleton<PlacementStrategy, PreferLocalPlacement>();
            },
        });
    }

    /// <summary>The silos the cluster's membership holds as active, as <see cref="A"/> sees them.</summary>
    public async Task<int> ActiveSilosAsync()
    {
        var management = A.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        return (await management.GetHosts(onlyActive: true)).Count;
    }

    /// <summary>A grain of the cluster, called through <see cref="A"/>.</summary>
    public T Grain<T>(string key)
        where T : IGrainWithStringKey => A.Services.GetRequiredService<IGrainFactory>().GetGrain<T>(key);

    /// <summary>The silo port of the silo where <paramref name="grain"/> is active (null: not active), as <see cref="A"/>
    /// knows it.</summary>
    public async Task<int?> SiloPortOfAsync(IAddressable grain)
    {
        var management = A.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        return (await management.GetActivationAddress(grain))?.Endpoint.Port;
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

/// <summary>Tests that start a <see cref="TwoSiloCluster"/> run on their own, after the others: two more silos
/// starting and stopping beside the other tests would slow down the host those use (some read at once what a
/// silo does in the background).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TwoSiloCollection
{
    public const string Name = "two silos";
}

/// <summary>
/// Grain state kept in this process for every silo of a <see cref="TwoSiloCluster"/> (a stand-in for PostgreSQL):
/// each state is stored serialized, under its storage, state name and grain id, with an ETag checked on every
/// write as the real storages do.
/// </summary>
internal sealed class SharedGrainStore
{
    /// <summary>The storages the routing grains use.</summary>
    public static readonly string[] StorageNames =
        [RoutingGrainsServiceCollectionExtensions.StorageName, RoutingGrainsServiceCollectionExtensions.SessionStorageName];

    private readonly ConcurrentDictionary<(string Storage, string State, GrainId Grain), (byte[] Payload, long Version)> _states = new();
    private long _version;

    /// <summary>How many states are stored (in all storages).</summary>
    public int Count => _states.Count;

    public (byte[] Payload, long Version)? Read(string storage, string state, GrainId grain) =>
        _states.TryGetValue((storage, state, grain), out var stored) ? stored : null;

    /// <summary>Writes when the stored version is <paramref name="expected"/> (null: nothing stored); answers the
    /// new version, or null on a conflict.</summary>
    public long? Write(string storage, string state, GrainId grain, long? expected, byte[] payload)
    {
        var key = (storage, state, grain);
        var version = Interlocked.Increment(ref _version);
        if (expected is null)
        {
            return _states.TryAdd(key, (payload, version)) ? version : null;
        }

        return _states.TryGetValue(key, out var stored) && stored.Version == expected
            && _states.TryUpdate(key, (payload, version), stored) ? version : null;
    }

    public bool Clear(string storage, string state, GrainId grain, long? expected) =>
        expected is null
            ? !_states.ContainsKey((storage, state, grain))
            : _states.TryGetValue((storage, state, grain), out var stored) && stored.Version == expected
                && _states.TryRemove(new KeyValuePair<(string, string, GrainId), (byte[], long)>((storage, state, grain), stored));
}

/// <summary>One silo's <see cref="IGrainStorage"/> over the cluster's <see cref="SharedGrainStore"/>, serializing with
/// that silo's Orleans serializer.</summary>
internal sealed class SharedGrainStorage(SharedGrainStore store, string name, Serializer serializer, IActivatorProvider activators) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.Read(name, stateName, grainId) is { } stored)
        {
            grainState.State = serializer.Deserialize<T>(stored.Payload);
            grainState.ETag = stored.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var version = store.Write(name, stateName, grainId, Version(grainState.ETag), serializer.SerializeToArray(grainState.State))
            ?? throw new InconsistentStateException($"{name}: the stored state '{stateName}' of {grainId} is not version {grainState.ETag ?? "(none)"}.");
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!store.Clear(name, stateName, grainId, Version(grainState.ETag)))
        {
            throw new InconsistentStateException($"{name}: the stored state '{stateName}' of {grainId} is not version {grainState.ETag ?? "(none)"}.");
        }

        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static long? Version(string? etag) => etag is null ? null : long.Parse(etag, CultureInfo.InvariantCulture);
}
