using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Agents;

/// <summary>The persisted state of an agent grain: profile, chosen state, and every session it holds or is offered.</summary>
[GenerateSerializer, Alias("rc.agent-record")]
public sealed class AgentRecord
{
    [Id(0)] public bool Exists { get; set; }

    [Id(1)] public string? Name { get; set; }

    [Id(2)] public Dictionary<string, int> Skills { get; set; } = [];

    [Id(3)] public List<string> Queues { get; set; } = [];

    [Id(4)] public Dictionary<Channel, int> Capacity { get; set; } = [];

    [Id(5)] public AgentState State { get; set; } = AgentState.LoggedOut;

    [Id(6)] public string? Reason { get; set; }

    [Id(7)] public DateTimeOffset StateSince { get; set; }

    [Id(8)] public DateTimeOffset IdleSince { get; set; }

    [Id(9)] public long Version { get; set; }

    [Id(10)] public Dictionary<string, HeldSession> Sessions { get; set; } = [];

    /// <summary>What the agent is doing, for time accounting (derived from the state and the sessions held).</summary>
    [Id(11)] public RoutingCluster.Abstractions.Metrics.AgentActivity Activity { get; set; }

    [Id(12)] public DateTimeOffset ActivitySince { get; set; }

    /// <summary>The supervisor who set the current state in the agent's place; null when the agent chose it.</summary>
    [Id(13)] public string? ForcedBy { get; set; }
}

/// <summary>A session an agent is offered or holds: each one uses a unit of capacity on its channel.</summary>
[GenerateSerializer, Alias("rc.held-session")]
public sealed class HeldSession
{
    [Id(0)] public string SessionId { get; set; } = string.Empty;

    [Id(1)] public Channel Channel { get; set; }

    [Id(2)] public string QueueId { get; set; } = string.Empty;

    [Id(3)] public HeldState State { get; set; }

    [Id(4)] public DateTimeOffset Since { get; set; }

    [Id(5)] public DateTimeOffset OfferedAt { get; set; }

    [Id(6)] public DateTimeOffset ExpiresAt { get; set; }

    [Id(7)] public double WrapUpSeconds { get; set; }

    [Id(8)] public DateTimeOffset? WrapUpUntil { get; set; }

    [Id(9)] public List<Segment> Segments { get; set; } = [];

    [Id(10)] public DateTimeOffset QueuedAt { get; set; }

    /// <summary>The offer is to call the customer back.</summary>
    [Id(11)] public bool Callback { get; set; }
}
