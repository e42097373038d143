using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>The edges' grain references are the ones <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> gives, and reach the
/// same grains.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class RoutingGrainsTests(SiloHostFactory host)
{
    [Fact]
    public async Task References_AreTheFactorysReferences()
    {
        var grains = host.Services.GetRequiredService<RoutingGrains>();
        var factory = host.Services.GetRequiredService<IGrainFactory>();
        var id = HostApi.NewId("rg");

        Assert.Equal(factory.GetGrain<ISessionGrain>(id), grains.Session(id));
        Assert.Equal(factory.GetGrain<IAgentGrain>(id), grains.Agent(id));
        Assert.Equal(factory.GetGrain<IQueueGrain>(id), grains.Queue(id));
        Assert.Equal(factory.GetGrain<ISessionGrain>(id).GetGrainId(), grains.Session(id).GetGrainId());
        Assert.Null(await grains.Session(id).GetAsync());
        Assert.Null(await grains.Agent(id).GetAsync());
    }
}
