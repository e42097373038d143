using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using RoutingCluster.Abstractions.Sessions;

namespace RoutingCluster.Benchmarks.Grains;

/// <summary>
/// What a grain reference costs the edges, which take one to three per request. <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c>
/// resolves the interface type (its attributes, by reflection) and the grain type each time. Against: the same
/// reference from an interface type resolved once, the grain type still from Orleans' own cache of the cluster manifest
/// (what <c>RoutingGrains</c> in the host does), and from both resolved once. No call is made: a reference is only
/// built. The silo is the benchmark silo (<see cref="BenchSilo"/>).
/// </summary>
[MemoryDiagnoser]
public class GrainReferenceBenchmarks
{
    /// <summary>A session id as the host makes them.</summary>
    public const string Key = "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190";

    private BenchSilo _silo = null!;
    private IGrainFactory _grains = null!;
    private GrainInterfaceTypeToGrainTypeResolver _grainTypes = null!;
    private GrainInterfaceType _interface;
    private GrainType _grainType;

    [GlobalSetup]
    public void Setup()
    {
        _silo = BenchSilo.StartAsync().GetAwaiter().GetResult();
        _grains = _silo.Grains;
        _grainTypes = _silo.Services.GetRequiredService<GrainInterfaceTypeToGrainTypeResolver>();
        _interface = _silo.Services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(typeof(ISessionGrain));
        _grainType = _grainTypes.GetGrainType(_interface);

        var expected = _grains.GetGrain<ISessionGrain>(Key).GetGrainId();
        if (Session_InterfaceResolvedOnce().GetGrainId() != expected || Session_BothResolvedOnce().GetGrainId() != expected)
        {
            throw new InvalidOperationException("Benchmark setup is wrong: the references differ.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public ISessionGrain Session_GetGrainByStringKey() => _grains.GetGrain<ISessionGrain>(Key);

    [Benchmark]
    public ISessionGrain Session_InterfaceResolvedOnce() =>
        (ISessionGrain)_grains.GetGrain(GrainId.Create(_grainTypes.GetGrainType(_interface), Key), _interface);

    [Benchmark]
    public ISessionGrain Session_BothResolvedOnce() => (ISessionGrain)_grains.GetGrain(GrainId.Create(_grainType, Key), _interface);
}
