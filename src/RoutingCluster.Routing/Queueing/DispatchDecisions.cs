using RoutingCluster.Routing.Matching;

namespace RoutingCluster.Routing.Queueing;

/// <summary>Which side of the market a match was made from.</summary>
public enum MatchKind
{
    /// <summary>Several agents could take a session that just became available: the queue's strategy picked one.</summary>
    AgentSurplus,

    /// <summary>An agent with room took the best session waiting for it.</summary>
    SessionSurplus,
}

/// <summary>How an offer attempt ended, as the queue learns it.</summary>
public enum AttemptOutcome
{
    /// <summary>The agent reserved capacity and the session took the offer.</summary>
    Offered,

    /// <summary>The agent could not take the session after all (its availability changed since the queue last heard).</summary>
    AgentUnavailable,

    /// <summary>The session is not waiting any more: the queue lets it go.</summary>
    SessionGone,

    /// <summary>The session still waits, but the offer reached it after its expiry: the queue keeps it.</summary>
    OfferTooLate,

    /// <summary>The agent did not answer (its silo may be down, or too slow).</summary>
    NoAnswer,
}

/// <summary>What a <see cref="QueueDispatcher"/> asks its host to carry out.</summary>
public abstract record DispatchDecision;

/// <summary>Offer the session to the agent. The dispatcher counts the attempt in flight until
/// <see cref="QueueDispatcher.AttemptDone"/> reports its outcome.</summary>
public sealed record OfferDecision(SessionDemand Session, string AgentId, int CandidateCount, MatchKind Kind) : DispatchDecision;

/// <summary>The session waited the queue's maximum: it leaves, to the overflow queue if one is configured, or out.</summary>
public sealed record ExpireDecision(SessionDemand Session, string? OverflowQueueId) : DispatchDecision;

/// <summary>Ask the agent to publish its availability again (it did not answer an offer attempt). When it cannot be
/// reached either, report it with <see cref="QueueDispatcher.AgentUnreachable"/>.</summary>
public sealed record AskAgentDecision(string AgentId) : DispatchDecision;

/// <summary>Tell the sessions at the front of the queue their place and estimated wait.</summary>
public sealed record PositionsDecision(IReadOnlyList<WaitingPosition> Positions) : DispatchDecision;

/// <summary>A waiting session's place in its channel's line, the estimated wait at that place (null: not known yet), and
/// whether the queue proposes a callback (the estimate is over its <see cref="Model.QueuePolicy.CallbackOffer"/> bound).</summary>
public readonly record struct WaitingPosition(string SessionId, Model.Channel Channel, int Position, double? EstimatedWaitSeconds, bool CallbackProposed = false);

/// <summary>The answer to a session's arrival.</summary>
public enum ArrivalOutcome
{
    Accepted,

    /// <summary>The queue holds its maximum: the session is refused (its overflow queue may take it).</summary>
    QueueFull,
}

/// <summary>What a queue's agents are doing, counted when asked.</summary>
public readonly record struct AgentCounts(int Idle, int Busy, int NotReady);

/// <summary>Waiting sessions of one segment, and the earliest arrival among them.</summary>
public readonly record struct SegmentCount(int Waiting, DateTimeOffset OldestArrival);
