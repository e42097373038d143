using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Sessions;

/// <summary>
/// The customer behind a session, as the cluster knows it: never by the bank's customer id, which the API turns into
/// its keyed pseudonym before anything else sees it. The age is kept while the session lives (routing derives the
/// elderly segment from it in every queue the session enters) and dropped when it ends.
/// </summary>
/// <remarks>Field 0 held the customer id itself before pseudonyms: never reuse it. A record written then reads back
/// without it, and without a pseudonym.</remarks>
[GenerateSerializer, Immutable, Alias("rc.customer")]
public sealed record Customer(
    [property: Id(3)] string? Pseudonym,
    [property: Id(1)] int? Age,
    [property: Id(2)] IReadOnlyList<Segment> Segments)
{
    /// <summary>The customer without what must not outlive the session: the pseudonym and the declared segments stay.</summary>
    public Customer Forgotten() => Age is null ? this : this with { Age = null };

    /// <summary>Never the age, should a customer ever be written into a log line or an exception message.</summary>
    public override string ToString() => $"Customer {{ Pseudonym = {Pseudonym}, Segments = [{string.Join(", ", Segments)}] }}";
}

/// <summary>A validated request to create a session (the API refuses bad input before it gets here).</summary>
[GenerateSerializer, Immutable, Alias("rc.new-session")]
public sealed record NewSession
{
    [Id(0)] public required string QueueId { get; init; }

    [Id(1)] public required Channel Channel { get; init; }

    [Id(2)] public required Customer Customer { get; init; }

    [Id(3)] public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    [Id(4)] public string? PreferredAgentId { get; init; }

    [Id(5)] public double PreferredAgentWaitSeconds { get; init; }

    [Id(6)] public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    /// <summary>A keyed digest of the request, so a retry with the same idempotency key but another body is refused.</summary>
    [Id(7)] public string Fingerprint { get; init; } = string.Empty;

    /// <summary>The request without its customer's age and attributes, should it ever be written into a log line or an
    /// exception message.</summary>
    public override string ToString() =>
        $"NewSession {{ QueueId = {QueueId}, Channel = {Channel}, Customer = {Customer}, Skills = {Skills.Count}, PreferredAgentId = {PreferredAgentId}, Attributes = {Attributes.Count} }}";
}

public enum CreateStatus
{
    Created,
    AlreadyExists,
    QueueNotFound,
    Refused,
    KeyReused,
}

[GenerateSerializer, Immutable, Alias("rc.create-session-result")]
public sealed record CreateSessionResult([property: Id(0)] CreateStatus Status, [property: Id(1)] SessionView? Session, [property: Id(2)] string? Detail = null);

/// <summary>Why a session was offered to its agent: what support reads to answer "why did this customer wait".</summary>
[GenerateSerializer, Immutable, Alias("rc.explanation")]
public sealed record Explanation
{
    /// <summary><c>agent-surplus</c> (the queue chose among free agents) or <c>session-surplus</c> (a freed agent chose among waiting sessions).</summary>
    [Id(0)] public required string Decision { get; init; }

    [Id(1)] public required int CandidateCount { get; init; }

    [Id(2)] public required AgentSelection Strategy { get; init; }

    [Id(3)] public required string AgentId { get; init; }

    [Id(4)] public IReadOnlyDictionary<string, int> AgentSkills { get; init; } = new Dictionary<string, int>();

    [Id(5)] public required double AgentIdleSeconds { get; init; }

    /// <summary>Index of the relaxation step in force (0-based), or null when the original levels matched.</summary>
    [Id(6)] public int? RelaxationStep { get; init; }

    [Id(7)] public IReadOnlyDictionary<string, int> MinimumLevels { get; init; } = new Dictionary<string, int>();

    /// <summary>Seconds waited + head start at the decision.</summary>
    [Id(8)] public required double Score { get; init; }

    [Id(9)] public required double WaitedSeconds { get; init; }

    /// <summary>The head start that applied: a number of seconds, or "strict".</summary>
    [Id(10)] public required string HeadStart { get; init; }

    [Id(11)] public required DateTimeOffset DecidedAt { get; init; }

    [Id(12)] public bool PreferredAgent { get; init; }

    [Id(13)] public bool PreviouslyRejected { get; init; }
}

/// <summary>One step of a session's life, kept for support and for the KPI records.</summary>
[GenerateSerializer, Immutable, Alias("rc.session-event")]
public sealed record SessionEvent(
    [property: Id(0)] SessionState State,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string QueueId,
    [property: Id(3)] string? AgentId,
    [property: Id(4)] string? Note = null);

/// <summary>
/// The grain-side view of a session: what <see cref="ISessionGrain.GetAsync"/> returns, between silos in Orleans'
/// serialization. The HTTP API writes it as its wire view (the silo host's <c>SessionResponse</c>, the JSON of
/// <c>GET /v1/sessions/{id}</c>), which the client reads as its own view (<c>ClientSessionView</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("rc.session-view")]
public sealed record SessionView
{
    [Id(0)] public required string Id { get; init; }

    [Id(1)] public required SessionState State { get; init; }

    [Id(2)] public required string QueueId { get; init; }

    [Id(3)] public required Channel Channel { get; init; }

    [Id(4)] public string? AgentId { get; init; }

    [Id(5)] public IReadOnlyList<Segment> Segments { get; init; } = [];

    [Id(6)] public required DateTimeOffset CreatedAt { get; init; }

    [Id(7)] public DateTimeOffset? OfferedAt { get; init; }

    [Id(8)] public DateTimeOffset? AnsweredAt { get; init; }

    [Id(9)] public DateTimeOffset? EndedAt { get; init; }

    [Id(10)] public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>When the session last started waiting in its current queue (its place in the queue).</summary>
    [Id(11)] public DateTimeOffset? QueuedAt { get; init; }

    [Id(12)] public DateTimeOffset? OfferExpiresAt { get; init; }

    [Id(13)] public Explanation? Explanation { get; init; }

    [Id(14)] public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    [Id(15)] public string? PreferredAgentId { get; init; }

    [Id(16)] public IReadOnlyList<string> RejectedBy { get; init; } = [];

    [Id(17)] public IReadOnlyList<SessionEvent> History { get; init; } = [];

    // Id 18 held the gateway's attributes, which no view shows: never reuse it.

    /// <summary>The callback the customer asked for, if any.</summary>
    [Id(19)] public CallbackView? Callback { get; init; }
}

/// <summary>A callback: when the customer asked for it, and when it is scheduled (null: as soon as an agent is free,
/// at the place the session had).</summary>
[GenerateSerializer, Immutable, Alias("rc.callback-view")]
public sealed record CallbackView([property: Id(0)] DateTimeOffset RequestedAt, [property: Id(1)] DateTimeOffset? At);

/// <summary>The offer a queue or agent made: which agent, until when, and why.</summary>
[GenerateSerializer, Immutable, Alias("rc.offer-command")]
public sealed record OfferCommand(
    [property: Id(0)] string AgentId,
    [property: Id(1)] DateTimeOffset ExpiresAt,
    [property: Id(2)] Explanation Explanation)
{
    /// <summary>Whether the offer is to call the customer back (the queue offered the session as a callback). A session
    /// that became a callback after the queue chose it refuses an inbound offer, and its queue keeps it as a callback.</summary>
    [Id(3)] public bool Callback { get; init; }
}

/// <summary>A session's answer to an offer (<see cref="ISessionGrain.OfferAsync"/>).</summary>
public enum OfferReply
{
    /// <summary>queued → offered: the agent holds it now.</summary>
    Offered,

    /// <summary>Not waiting any more (abandoned, offered or connected elsewhere, ended): no queue should hold it.</summary>
    NotWaiting,

    /// <summary>Still waiting, but the offer reached it at or after its expiry (a slow link, a silo that died on the way):
    /// refused, and the session stays in its queue.</summary>
    TooLate,
}

public enum RequeueReason
{
    Rejected,
    Missed,
}
