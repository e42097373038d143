namespace RoutingCluster.Client;

/// <summary>What an alert is about.</summary>
public enum AlertKind
{
    LongestWait,
    ElderlyLongestWait,
    ServiceLevel,
    Waiting,
}

/// <summary><c>GET /v1/alerts</c>: an active alert. <see cref="Value"/> is the latest figure (seconds, a count, or
/// a fraction for the service level); <see cref="Threshold"/> the bound; <see cref="Since"/> when it was raised.</summary>
public sealed record QueueAlert
{
    public required string QueueId { get; init; }

    public AlertKind Kind { get; init; }

    public double Value { get; init; }

    public double Threshold { get; init; }

    public DateTimeOffset Since { get; init; }
}
