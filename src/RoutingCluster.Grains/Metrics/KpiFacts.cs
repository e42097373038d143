using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Metrics;

/// <summary>
/// Counts of one stay of a session in a queue, as the session grain emits them at a transition: the stay started
/// waiting at <see cref="QueuedAt"/>, and every count of it goes to that instant's interval.
/// </summary>
public sealed record SessionKpi(
    string QueueId,
    string? AgentId,
    Channel Channel,
    IReadOnlyList<Segment> Segments,
    DateTimeOffset QueuedAt,
    KpiCounters Counts);

/// <summary>
/// An agent's activity changed at <see cref="At"/>: the time since <see cref="PreviousSince"/> counts as
/// <see cref="Previous"/> for the agent and the queues it served then (<see cref="PreviousQueues"/>), and the
/// agent is now <see cref="Next"/> for the queues it serves now.
/// </summary>
public sealed record AgentActivityChange(
    string AgentId,
    AgentActivity Previous,
    DateTimeOffset PreviousSince,
    IReadOnlyList<string> PreviousQueues,
    AgentActivity Next,
    DateTimeOffset At,
    IReadOnlyList<string> Queues);
