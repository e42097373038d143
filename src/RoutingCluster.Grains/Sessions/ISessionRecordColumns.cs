namespace RoutingCluster.Grains.Sessions;

/// <summary>
/// What a session's persisted state exposes as queryable columns beside its serialized form: a session storage
/// (the PostgreSQL one keeps one row per session) writes these values with every state write, so recovery and
/// analysts query the sessions without deserializing anything. The state computes them itself, so the storage
/// never has to guess how the state is shaped.
/// </summary>
/// <remarks>
/// Deliberately without the customer's personal data: its age and the gateway's free-form attributes stay in the
/// serialized state only, and only while the session lives; its id is nowhere (the cluster knows the customer by its
/// keyed pseudonym). These columns feed analyst tables and KPI queries, which must carry no customer identifiers: the
/// pseudonym, which nobody without the key can link to a customer, is there for repeat-contact figures.
/// </remarks>
public interface ISessionRecordColumns
{
    /// <summary>The current column values of the session.</summary>
    SessionColumns GetColumns();
}

/// <summary>The queryable values of one session. Enum values are their wire names (<see cref="WireNames"/>: <c>wrap-up</c>, <c>5g</c>).</summary>
/// <param name="CustomerPseudonym">The keyed pseudonym of the customer id (<c>CustomerPseudonyms</c>): the same for every
/// session of one customer, for repeat-contact figures. Null for a record written before pseudonyms.</param>
/// <param name="QueueId">The queue the session is in (or ended in).</param>
/// <param name="State">The lifecycle state: <c>queued</c>, <c>offered</c>, <c>connected</c>, <c>wrap-up</c>, <c>completed</c>,
/// <c>abandoned</c>, <c>overflowed</c>, <c>refused</c>.</param>
/// <param name="Channel">The channel: <c>voice</c>, <c>chat</c>, ..., <c>5g</c>.</param>
/// <param name="Segments">The priority segments that applied (<c>elderly</c>, <c>vip</c>, ...).</param>
/// <param name="AgentId">The agent the session is offered to or held by, if any.</param>
/// <param name="CreatedAt">When the gateway created it.</param>
/// <param name="QueuedAt">When it started waiting in its current queue: its place there (kept once it leaves the queue).</param>
/// <param name="OfferedAt">When it was last offered.</param>
/// <param name="AnsweredAt">When an agent accepted it.</param>
/// <param name="EndedAt">When the talk ended, or the customer left.</param>
/// <param name="CompletedAt">When it reached a terminal state after wrap-up, or was refused.</param>
/// <param name="History">Every transition, oldest first.</param>
public sealed record SessionColumns(
    string? CustomerPseudonym,
    string QueueId,
    string State,
    string Channel,
    IReadOnlyList<string> Segments,
    string? AgentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset QueuedAt,
    DateTimeOffset? OfferedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<SessionHistoryColumn> History);

/// <summary>One transition of <see cref="SessionColumns.History"/>.</summary>
public sealed record SessionHistoryColumn(string State, DateTimeOffset At, string QueueId, string? AgentId, string? Note);
