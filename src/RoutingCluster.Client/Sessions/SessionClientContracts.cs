namespace RoutingCluster.Client;

/// <summary><c>POST /v1/sessions</c>: a gateway asks for a human for one customer contact.</summary>
public sealed record CreateSessionRequest
{
    public required string QueueId { get; init; }

    public required Channel Channel { get; init; }

    public required Customer Customer { get; init; }

    /// <summary>Required skills with their minimum levels (1–5).</summary>
    public IReadOnlyDictionary<string, int>? Skills { get; init; }

    public string? PreferredAgentId { get; init; }

    /// <summary>How long the preferred agent gets the session first (seconds; the server's default is 0).</summary>
    public double? PreferredAgentWaitSeconds { get; init; }

    /// <summary>Free-form attributes from the gateway (IVR choice, language, ...).</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }
}

/// <summary>The customer behind a session. The queue derives <see cref="Segment.Elderly"/> from
/// <see cref="Age"/> (at least the queue's elderly age, default 65) when the gateway does not set it.</summary>
public sealed record Customer
{
    /// <summary>The bank's own customer id. The API never shows it back, and never logs it.</summary>
    public required string Id { get; init; }

    public int? Age { get; init; }

    public IReadOnlyList<Segment>? Segments { get; init; }
}

/// <summary><c>POST /v1/sessions/{id}/transfer</c>: to a queue, to an agent, or to an agent in a queue.</summary>
public sealed record TransferRequest
{
    public string? QueueId { get; init; }

    public string? AgentId { get; init; }
}

/// <summary><c>POST /v1/sessions/{id}/callback</c>: the customer leaves the line to be called back, at once
/// (<see cref="At"/> null: the session keeps its place) or at <see cref="At"/> (in the future, within 7 days).</summary>
public sealed record CallbackRequest
{
    public DateTimeOffset? At { get; init; }
}

/// <summary>A session's callback: when the customer asked for it, and when it is scheduled (null: at once).</summary>
public sealed record SessionCallback(DateTimeOffset RequestedAt, DateTimeOffset? At);

/// <summary>The answer to <see cref="RoutingClient.CreateSessionAsync"/>.</summary>
/// <param name="Session">The session, as the server answered it.</param>
/// <param name="IdempotencyKey">The key the request carried (the caller's, or the one the client generated).
/// Sending the same request with it again reaches the same session.</param>
/// <param name="AlreadyExisted">True when the server answered 200 rather than 201: a session with this key existed
/// already (created by an earlier attempt of this call, whose answer was lost, or by an earlier call).</param>
public sealed record SessionCreated(ClientSessionView Session, string IdempotencyKey, bool AlreadyExisted);

/// <summary>The client's view of a session, read from the JSON of <c>GET /v1/sessions/{id}</c>: state, queue, agent,
/// timestamps, and why it went to its agent.</summary>
public sealed record ClientSessionView
{
    public required string Id { get; init; }

    public required SessionState State { get; init; }

    public required string QueueId { get; init; }

    public required Channel Channel { get; init; }

    public string? AgentId { get; init; }

    public IReadOnlyList<Segment> Segments { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the session last started waiting in its current queue (its place in the queue).</summary>
    public DateTimeOffset? QueuedAt { get; init; }

    public DateTimeOffset? OfferedAt { get; init; }

    public DateTimeOffset? OfferExpiresAt { get; init; }

    public DateTimeOffset? AnsweredAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Why the session went to its agent; null until it was offered.</summary>
    public SessionExplanation? Explanation { get; init; }

    public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    public string? PreferredAgentId { get; init; }

    public IReadOnlyList<string> RejectedBy { get; init; } = [];

    public IReadOnlyList<SessionHistoryEntry> History { get; init; } = [];

    /// <summary>The callback the customer asked for; null while the customer is on the line.</summary>
    public SessionCallback? Callback { get; init; }
}

/// <summary>Why a session went to its agent: what support reads to answer "why did this customer wait".</summary>
public sealed record SessionExplanation
{
    /// <summary><c>agent-surplus</c> (the queue chose among free agents) or <c>session-surplus</c> (a freed agent
    /// chose among waiting sessions).</summary>
    public required string Decision { get; init; }

    public int CandidateCount { get; init; }

    public AgentSelection Strategy { get; init; }

    public required string AgentId { get; init; }

    public IReadOnlyDictionary<string, int> AgentSkills { get; init; } = new Dictionary<string, int>();

    public double AgentIdleSeconds { get; init; }

    /// <summary>Index of the relaxation step in force (0-based), or null when the original levels matched.</summary>
    public int? RelaxationStep { get; init; }

    public IReadOnlyDictionary<string, int> MinimumLevels { get; init; } = new Dictionary<string, int>();

    /// <summary>Seconds waited plus head start, at the decision.</summary>
    public double Score { get; init; }

    public double WaitedSeconds { get; init; }

    public HeadStart HeadStart { get; init; }

    public bool PreferredAgent { get; init; }

    public bool PreviouslyRejected { get; init; }

    public DateTimeOffset DecidedAt { get; init; }
}

/// <summary>One step of a session's life.</summary>
public sealed record SessionHistoryEntry(SessionState State, DateTimeOffset At, string QueueId, string? AgentId, string? Note);
