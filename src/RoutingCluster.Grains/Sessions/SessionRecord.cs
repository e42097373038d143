using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Sessions;

/// <summary>The persisted state of a session grain. Data only: decisions live in the policy and the grain.
/// <see cref="ISessionRecordColumns"/> tells a session storage which values to keep as queryable columns.</summary>
[GenerateSerializer, Alias("rc.session-record")]
public sealed class SessionRecord : ISessionRecordColumns
{
    [Id(0)] public bool Exists { get; set; }

    [Id(1)] public string Fingerprint { get; set; } = string.Empty;

    [Id(2)] public string QueueId { get; set; } = string.Empty;

    [Id(3)] public Channel Channel { get; set; }

    /// <summary>The customer: its pseudonym, declared segments and (while the session lives) its age. Never its id.</summary>
    [Id(4)] public Customer? Customer { get; set; }

    [Id(5)] public List<Segment> Segments { get; set; } = [];

    [Id(6)] public Dictionary<string, int> Skills { get; set; } = [];

    [Id(7)] public string? PreferredAgentId { get; set; }

    [Id(8)] public DateTimeOffset PreferredUntil { get; set; }

    /// <summary>The gateway's free-form attributes: kept while the session lives, emptied when it ends.</summary>
    [Id(9)] public Dictionary<string, string> Attributes { get; set; } = [];

    [Id(10)] public SessionState State { get; set; }

    [Id(11)] public string? AgentId { get; set; }

    [Id(12)] public DateTimeOffset CreatedAt { get; set; }

    [Id(13)] public DateTimeOffset QueuedAt { get; set; }

    [Id(14)] public DateTimeOffset? OfferedAt { get; set; }

    [Id(15)] public DateTimeOffset? OfferExpiresAt { get; set; }

    [Id(16)] public DateTimeOffset? AnsweredAt { get; set; }

    [Id(17)] public DateTimeOffset? EndedAt { get; set; }

    [Id(18)] public DateTimeOffset? CompletedAt { get; set; }

    [Id(19)] public HashSet<string> RejectedBy { get; set; } = [];

    [Id(20)] public Explanation? Explanation { get; set; }

    [Id(21)] public List<SessionEvent> History { get; set; } = [];

    /// <summary>The tie-break place the queue gave the session when it started waiting there.</summary>
    [Id(22)] public long QueueSequence { get; set; }

    /// <summary>The service-level threshold of the queue it waits in (or last waited in), as it was when it started waiting there.</summary>
    [Id(23)] public double ServiceLevelSeconds { get; set; } = 20;

    /// <summary>When the customer asked to be called back (null: on the line).</summary>
    [Id(24)] public DateTimeOffset? CallbackRequestedAt { get; set; }

    /// <summary>When a scheduled callback starts waiting (null: immediate, at the session's own place). The session waits
    /// from then on as if it arrived then, and its speed of answer counts from then.</summary>
    [Id(25)] public DateTimeOffset? CallbackAt { get; set; }

    /// <summary>The queryable columns; the customer's age and the attributes are left out on purpose (the customer is
    /// there by its keyed pseudonym only).</summary>
    public SessionColumns GetColumns() => new(
        Customer?.Pseudonym,
        QueueId,
        WireNames<SessionState>.Of(State),
        WireNames<Channel>.Of(Channel),
        [.. Segments.Select(WireNames<Segment>.Of)],
        AgentId,
        CreatedAt,
        QueuedAt,
        OfferedAt,
        AnsweredAt,
        EndedAt,
        CompletedAt,
        [.. History.Select(e => new SessionHistoryColumn(WireNames<SessionState>.Of(e.State), e.At, e.QueueId, e.AgentId, e.Note))]);
}
