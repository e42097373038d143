using RoutingCluster.Routing.Queueing;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Agents;

/// <summary>An agent's profile as an admin sets it (<c>PUT /v1/agents/{id}</c>).</summary>
[GenerateSerializer, Immutable, Alias("rc.agent-profile")]
public sealed record AgentProfile
{
    [Id(0)] public string? Name { get; init; }

    [Id(1)] public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    [Id(2)] public IReadOnlyList<string> Queues { get; init; } = [];

    /// <summary>Null: the default capacities. Otherwise the complete set: a channel left out is not worked.</summary>
    [Id(3)] public IReadOnlyDictionary<Channel, int>? Capacity { get; init; }
}

public enum HeldState
{
    Offered,
    Connected,
    WrapUp,
}

[GenerateSerializer, Immutable, Alias("rc.agent-session-view")]
public sealed record AgentSessionView(
    [property: Id(0)] string SessionId,
    [property: Id(1)] Channel Channel,
    [property: Id(2)] HeldState State,
    [property: Id(3)] string QueueId,
    [property: Id(4)] DateTimeOffset Since,
    [property: Id(5)] DateTimeOffset? WrapUpUntil);

[GenerateSerializer, Immutable, Alias("rc.agent-offer-view")]
public sealed record AgentOfferView(
    [property: Id(0)] string SessionId,
    [property: Id(1)] DateTimeOffset ExpiresAt,
    [property: Id(2)] Channel Channel,
    [property: Id(3)] string QueueId,
    [property: Id(4)] DateTimeOffset OfferedAt)
{
    /// <summary>The customer's segments (a desktop shows a priority badge for elderly, disabled, military).</summary>
    [Id(5)] public IReadOnlyList<Segment> Segments { get; init; } = [];

    /// <summary>When the session started waiting in its queue (so a desktop can show the wait so far).</summary>
    [Id(6)] public DateTimeOffset? QueuedAt { get; init; }

    /// <summary>Inbound (the customer is on the line) or callback (the agent calls the customer).</summary>
    [Id(7)] public OfferKind Kind { get; init; }
}

/// <summary><c>GET /v1/agents/{id}</c>: state, sessions held, pending offers.</summary>
[GenerateSerializer, Immutable, Alias("rc.agent-view")]
public sealed record AgentView
{
    [Id(0)] public required string Id { get; init; }

    [Id(1)] public string? Name { get; init; }

    [Id(2)] public required AgentState State { get; init; }

    [Id(3)] public string? Reason { get; init; }

    [Id(4)] public IReadOnlyList<AgentSessionView> Sessions { get; init; } = [];

    [Id(5)] public IReadOnlyList<AgentOfferView> Offers { get; init; } = [];

    [Id(6)] public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    [Id(7)] public IReadOnlyList<string> Queues { get; init; } = [];

    [Id(8)] public IReadOnlyDictionary<Channel, int> Capacity { get; init; } = new Dictionary<Channel, int>();

    [Id(9)] public required DateTimeOffset StateSince { get; init; }

    /// <summary>Grows with every change of the agent: a desktop receiving views out of order keeps the newest.</summary>
    [Id(10)] public long Version { get; init; }

    /// <summary>Who set the current state in the agent's place (a supervisor), or null when the agent chose it.</summary>
    [Id(11)] public string? ForcedBy { get; init; }
}

/// <summary>A queue asks an agent to take one of its sessions (agent surplus).</summary>
[GenerateSerializer, Immutable, Alias("rc.offer-request")]
public sealed record OfferRequest
{
    [Id(0)] public required SessionDemand Session { get; init; }

    [Id(1)] public required QueuePolicy Policy { get; init; }

    [Id(2)] public required int CandidateCount { get; init; }

    /// <summary>Which side of the market the queue matched from (the session's explanation names it).</summary>
    [Id(4)] public required MatchKind Kind { get; init; }
}

public enum OfferAttemptStatus
{
    Offered,
    AgentUnavailable,

    /// <summary>The session is not waiting any more: the queue lets it go.</summary>
    SessionGone,

    /// <summary>The session still waits, but the offer reached it after its expiry: the queue keeps it.</summary>
    OfferTooLate,
}

[GenerateSerializer, Immutable, Alias("rc.offer-attempt-result")]
public sealed record OfferAttemptResult([property: Id(0)] OfferAttemptStatus Status, [property: Id(1)] AgentSupply? Agent);
