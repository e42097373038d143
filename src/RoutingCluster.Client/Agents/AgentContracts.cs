namespace RoutingCluster.Client;

/// <summary><c>PUT /v1/agents/{id}</c>: the agent's profile (it replaces the previous one).</summary>
public sealed record AgentProfile
{
    public string? Name { get; init; }

    /// <summary>Skill levels, 1–5.</summary>
    public IReadOnlyDictionary<string, int>? Skills { get; init; }

    /// <summary>The queues the agent serves.</summary>
    public IReadOnlyList<string>? Queues { get; init; }

    /// <summary>Sessions per channel. Null: the server's defaults (voice 1, video 1, chat 3, email 5, ...);
    /// otherwise the complete set: a channel left out is one the agent does not work.</summary>
    public IReadOnlyDictionary<Channel, int>? Capacity { get; init; }
}

/// <summary><c>POST /v1/agents/{id}/state</c>: <c>{ "state": "not-ready", "reason": "break" }</c>.</summary>
/// <param name="Reason">A reason code (break, training, meeting, ...); kept only with <see cref="AgentState.NotReady"/>.</param>
public sealed record AgentStateChange(AgentState State, string? Reason = null);

/// <summary><c>GET /v1/agents/{id}</c> (and the answer to every agent action): state, sessions held, pending
/// offers, and the profile. The agent hub pushes the same shape.</summary>
public sealed record AgentView
{
    public required string Id { get; init; }

    public string? Name { get; init; }

    public required AgentState State { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset StateSince { get; init; }

    public IReadOnlyList<AgentSessionView> Sessions { get; init; } = [];

    public IReadOnlyList<AgentOfferView> Offers { get; init; } = [];

    public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    public IReadOnlyList<string> Queues { get; init; } = [];

    public IReadOnlyDictionary<Channel, int> Capacity { get; init; } = new Dictionary<Channel, int>();

    /// <summary>The supervisor who set the current state in the agent's place; null when the agent chose it.</summary>
    public string? ForcedBy { get; init; }
}

/// <summary><c>PUT /v1/agents/{id}/queues</c>: the queues the agent serves from now on.</summary>
public sealed record AgentQueuesChange(IReadOnlyList<string> Queues);

/// <summary>A session the agent holds: connected, or in wrap-up until <see cref="WrapUpUntil"/>.</summary>
public sealed record AgentSessionView(string SessionId, Channel Channel, HeldState State, string QueueId, DateTimeOffset Since, DateTimeOffset? WrapUpUntil);

/// <summary>A pending offer: accept or reject it before <see cref="ExpiresAt"/>. <see cref="Kind"/> callback: accepting
/// means calling the customer back.</summary>
public sealed record AgentOfferView(string SessionId, DateTimeOffset ExpiresAt, Channel Channel, string QueueId, DateTimeOffset OfferedAt, OfferKind Kind = OfferKind.Inbound);

/// <summary>An offer as the agent hub pushes it (<c>offer</c>): what the desktop shows.</summary>
public sealed record OfferNotice
{
    public required string SessionId { get; init; }

    public required Channel Channel { get; init; }

    public required string QueueId { get; init; }

    /// <summary>The customer's segments (elderly, disabled, military, vip), so the agent can adapt.</summary>
    public IReadOnlyList<Segment> Segments { get; init; } = [];

    public double WaitedSeconds { get; init; }

    public DateTimeOffset OfferedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Inbound (the customer is on the line) or callback (the agent calls the customer back).</summary>
    public OfferKind Kind { get; init; }
}

/// <summary>The answer to an agent action over the hub, like the HTTP API's status: 200 ok, 404 when the
/// session does not exist, 409 when the state does not allow it (the offer expired or was withdrawn).</summary>
public sealed record AgentActionResult(bool Ok, int Status, string? Detail);
