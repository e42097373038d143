namespace RoutingCluster.Grains.Queues;

/// <summary>The persisted state of a queue grain: its configuration and the agents that serve it. The waiting
/// sessions are not here: each session persists itself, and the queue's order is derived from them.</summary>
[GenerateSerializer, Alias("rc.queue-record")]
public sealed class QueueRecord
{
    [Id(0)] public bool Exists { get; set; }

    [Id(1)] public string? Name { get; set; }

    [Id(2)] public RoutingCluster.Routing.Model.QueuePolicy Policy { get; set; } = RoutingCluster.Routing.Model.QueuePolicy.Default;

    [Id(3)] public HashSet<string> Agents { get; set; } = [];
}
