using Orleans.Concurrency;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Events;

/// <summary>Kinds of session events, as gateways receive them (on the wire by their wire names: <c>queued</c>, <c>offered</c>, ...).</summary>
public enum SessionEventType
{
    Queued,
    Position,
    Offered,
    Connected,
    Ended,
    Completed,
    Abandoned,
    Overflowed,
    Transferred,
    Refused,
}

/// <summary>Something happened to a session: what a gateway needs to tell its customer.</summary>
[GenerateSerializer, Immutable, Alias("rc.session-update")]
public sealed record SessionUpdate
{
    [Id(0)] public required string SessionId { get; init; }

    [Id(1)] public required SessionEventType Type { get; init; }

    [Id(2)] public required SessionState State { get; init; }

    [Id(3)] public required string QueueId { get; init; }

    [Id(4)] public string? AgentId { get; init; }

    [Id(5)] public required DateTimeOffset At { get; init; }

    /// <summary>1-based place among the sessions waiting in the queue on the same channel (position events).</summary>
    [Id(6)] public int? Position { get; init; }

    [Id(7)] public double? EstimatedWaitSeconds { get; init; }

    /// <summary>Position events: the queue proposes a callback (the estimated wait is over its bound).</summary>
    [Id(8)] public bool CallbackProposed { get; init; }

    /// <summary>Offered events: whether the agent takes a customer on the line or calls the customer back.</summary>
    [Id(9)] public OfferKind? Kind { get; init; }
}

/// <summary>An offer as the agent desktop shows it.</summary>
[GenerateSerializer, Immutable, Alias("rc.offer-notice")]
public sealed record OfferNotice
{
    [Id(0)] public required string SessionId { get; init; }

    [Id(1)] public required Channel Channel { get; init; }

    [Id(2)] public required string QueueId { get; init; }

    [Id(3)] public IReadOnlyList<Segment> Segments { get; init; } = [];

    [Id(4)] public required double WaitedSeconds { get; init; }

    [Id(5)] public required DateTimeOffset OfferedAt { get; init; }

    [Id(6)] public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Inbound (the customer is on the line) or callback (the agent calls the customer).</summary>
    [Id(7)] public OfferKind Kind { get; init; }
}

public enum AgentEventType
{
    /// <summary>A new offer: <see cref="AgentUpdate.Offer"/> says what.</summary>
    Offer,

    /// <summary>The customer left before the agent answered.</summary>
    OfferWithdrawn,

    /// <summary>The agent did not answer in time (and is now not-ready).</summary>
    OfferExpired,

    /// <summary>State, sessions held or profile changed: <see cref="AgentUpdate.Agent"/> is the new view.</summary>
    Changed,
}

/// <summary>Something happened to an agent: what its desktop must show at once.</summary>
[GenerateSerializer, Immutable, Alias("rc.agent-update")]
public sealed record AgentUpdate
{
    [Id(0)] public required string AgentId { get; init; }

    [Id(1)] public required AgentEventType Type { get; init; }

    [Id(2)] public required AgentView Agent { get; init; }

    [Id(3)] public OfferNotice? Offer { get; init; }

    [Id(4)] public string? SessionId { get; init; }

    [Id(5)] public required DateTimeOffset At { get; init; }
}

/// <summary>
/// A silo's relay to the agent desktops connected to it. The agent grain calls it directly (wherever either
/// lives), so an offer reaches the desktop without polling.
/// </summary>
[Alias("rc.agent-desktop-observer")]
public interface IAgentDesktopObserver : IGrainObserver
{
    /// <summary>One-way: the agent grain goes on without waiting for the desktop; a relay that is gone is forgotten when its
    /// registration is not renewed (<c>AgentOptions.DesktopRenewInterval</c>).</summary>
    [OneWay, Alias("on-agent-update")]
    Task OnAgentUpdateAsync(AgentUpdate update);

    /// <summary>
    /// The agent's grain is deactivating (its silo stops, or it moves) and, with it, what it knew of the desktops
    /// connected: the relay registers its desktops of that agent again, which reaches the next activation. Without
    /// this, a desktop that failed over to another silo while the grain was still on the stopping one would get no
    /// pushes until the relay's next periodic renewal.
    /// </summary>
    [OneWay, Alias("on-agent-deactivating")]
    Task OnAgentDeactivatingAsync(string agentId);

    /// <summary>
    /// When this silo put the offer of <paramref name="sessionId"/> on the agent's desktops (null: it never did, for
    /// instance because the push waited behind others until the offer had expired). Asked only when an offer expires
    /// unanswered, so that a miss the desktop never had a fair chance at is not held against the agent.
    /// </summary>
    [Alias("offer-shown-at")]
    Task<DateTimeOffset?> OfferShownAtAsync(string agentId, string sessionId);
}

/// <summary>
/// Whoever follows one session (a gateway's server-sent events): registered with the session grain by
/// <c>ISessionGrain.FollowAsync</c> for a lease it renews. The session pushes each transition to its followers after
/// the transition was written; a session nobody follows pushes nothing. Pushes are best effort: the session's state
/// stays the authority, and a follower reads it again whenever it has been quiet.
/// </summary>
[Alias("rc.session-follower")]
public interface ISessionFollower : IGrainObserver
{
    [Alias("on-session-update")]
    Task OnSessionUpdateAsync(SessionUpdate update);
}
