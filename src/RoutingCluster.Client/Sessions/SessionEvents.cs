namespace RoutingCluster.Client;

/// <summary>Something happened to a session (the data of every event after the first on
/// <c>GET /v1/sessions/{id}/events</c>).</summary>
public sealed record SessionUpdate
{
    public required string SessionId { get; init; }

    public required SessionEventType Type { get; init; }

    /// <summary>The session's state after the update.</summary>
    public required SessionState State { get; init; }

    public required string QueueId { get; init; }

    public string? AgentId { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>1-based place among the sessions waiting in the queue on the same channel (position events).</summary>
    public int? Position { get; init; }

    public double? EstimatedWaitSeconds { get; init; }

    /// <summary>Position events: true while the queue proposes a callback to this customer (the estimated wait is over
    /// its bound); the gateway may offer it (<see cref="RoutingClient.RequestCallbackAsync"/>).</summary>
    public bool? CallbackProposed { get; init; }

    /// <summary>Offered events: inbound, or callback (once the agent accepts, the gateway dials the customer).</summary>
    public OfferKind? Kind { get; init; }
}

/// <summary>
/// One server-sent event of a followed session. The first is named <c>state</c> and carries the session as it
/// is (<see cref="Snapshot"/>); another <c>state</c> comes when the server, reading the session after a quiet spell,
/// finds it moved on without an event (events are best effort under overload); the others are named after what happened (<c>queued</c>, <c>offered</c>,
/// <c>connected</c>, <c>ended</c>, <c>completed</c>, <c>abandoned</c>, <c>overflowed</c>, <c>transferred</c>,
/// <c>refused</c>, ...) and carry an <see cref="Update"/>. Keep-alive events are not yielded.
/// </summary>
/// <param name="Name">The SSE event name.</param>
/// <param name="Id">The SSE event id, when the server gave one.</param>
/// <param name="Snapshot">For the <c>state</c> event: the session as it was when following began (or resumed).</param>
/// <param name="Update">For every other event: what happened.</param>
public sealed record SessionEvent(string Name, string? Id, ClientSessionView? Snapshot, SessionUpdate? Update)
{
    /// <summary>The name of the first event of every stream: the session's current state.</summary>
    public const string StateEventName = "state";

    /// <summary>The name of the comment-like events the server sends while nothing happens.</summary>
    public const string KeepAliveEventName = "keep-alive";

    /// <summary>The session's state after this event.</summary>
    public SessionState? State => Snapshot?.State ?? Update?.State;

    /// <summary>True when the session has reached its terminal state: the server ends the stream after it.</summary>
    public bool IsTerminal => State is { } state && state.IsTerminal();
}
