using Orleans.Metadata;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>
/// References to the routing grains, for the edges (the HTTP handlers and the agent hub: one or more per request) and for
/// the grains themselves (a session calls its queue, a queue its agents and sessions, an agent its sessions and queues).
/// <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> resolves the interface's Orleans type from its attributes, by reflection,
/// on every call (2.4 µs and 1.4 KB a reference); here each interface's type is resolved once, and a reference costs
/// 0.17 µs and 104 B (docs/performance.md, "Contract serialization"). The grain type is still looked up per call, in
/// Orleans' own cache of the cluster manifest, so that it follows the manifest as <c>GetGrain</c> does.
/// </summary>
public sealed class RoutingGrains(IGrainFactory grains, GrainInterfaceTypeResolver interfaces, GrainInterfaceTypeToGrainTypeResolver grainTypes)
{
    private readonly GrainInterfaceType _session = interfaces.GetGrainInterfaceType(typeof(ISessionGrain));
    private readonly GrainInterfaceType _agent = interfaces.GetGrainInterfaceType(typeof(IAgentGrain));
    private readonly GrainInterfaceType _queue = interfaces.GetGrainInterfaceType(typeof(IQueueGrain));

    public ISessionGrain Session(string id) => (ISessionGrain)Get(_session, id);

    public IAgentGrain Agent(string id) => (IAgentGrain)Get(_agent, id);

    public IQueueGrain Queue(string id) => (IQueueGrain)Get(_queue, id);

    private IAddressable Get(GrainInterfaceType interfaceType, string id) =>
        grains.GetGrain(GrainId.Create(grainTypes.GetGrainType(interfaceType), id), interfaceType);
}
