using Microsoft.Extensions.Logging;

namespace RoutingCluster.Grains.Infrastructure;

/// <summary>Source-generated log messages of the routing grains. No customer identifiers: only session,
/// agent and queue ids, which the cluster generates or the operator chooses.</summary>
public static partial class RoutingLog
{
    [LoggerMessage(EventId = LogEventIds.SessionQueued, Level = LogLevel.Debug, Message = "Session {SessionId} queued in {QueueId} ({Channel})")]
    public static partial void SessionQueued(this ILogger logger, string sessionId, string queueId, RoutingCluster.Routing.Model.Channel channel);

    [LoggerMessage(EventId = LogEventIds.SessionOffered, Level = LogLevel.Debug, Message = "Session {SessionId} offered to agent {AgentId} ({Decision}, score {Score:F1})")]
    public static partial void SessionOffered(this ILogger logger, string sessionId, string agentId, string decision, double score);

    [LoggerMessage(EventId = LogEventIds.SessionTransition, Level = LogLevel.Debug, Message = "Session {SessionId} is now {State}")]
    public static partial void SessionTransition(this ILogger logger, string sessionId, RoutingCluster.Routing.Model.SessionState state);

    [LoggerMessage(EventId = LogEventIds.SessionRefused, Level = LogLevel.Information, Message = "Session {SessionId} refused: queue {QueueId} is full")]
    public static partial void SessionRefused(this ILogger logger, string sessionId, string queueId);

    [LoggerMessage(EventId = LogEventIds.OfferMissed, Level = LogLevel.Information, Message = "Agent {AgentId} missed the offer of session {SessionId}: set not-ready")]
    public static partial void OfferMissed(this ILogger logger, string agentId, string sessionId);

    [LoggerMessage(EventId = LogEventIds.OfferNotShownInTime, Level = LogLevel.Warning, Message = "The offer of session {SessionId} to agent {AgentId} expired without reaching a desktop in time: back to its queue, the agent stays as it is")]
    public static partial void OfferNotShownInTime(this ILogger logger, string agentId, string sessionId);

    [LoggerMessage(EventId = LogEventIds.AgentStateChanged, Level = LogLevel.Debug, Message = "Agent {AgentId} is now {State} ({Reason})")]
    public static partial void AgentStateChanged(this ILogger logger, string agentId, RoutingCluster.Routing.Model.AgentState state, string? reason);

    [LoggerMessage(EventId = LogEventIds.StaleHoldReleased, Level = LogLevel.Warning, Message = "Agent {AgentId} held session {SessionId}, which is no longer connected to it; the hold is released")]
    public static partial void StaleHoldReleased(this ILogger logger, string agentId, string sessionId);

    [LoggerMessage(EventId = LogEventIds.ClaimedOfferFailed, Level = LogLevel.Warning, Message = "Offer of claimed session {SessionId} by agent {AgentId} failed; the session goes back to its queue")]
    public static partial void ClaimedOfferFailed(this ILogger logger, Exception exception, string sessionId, string agentId);

    [LoggerMessage(EventId = LogEventIds.OfferAttemptFailed, Level = LogLevel.Warning, Message = "Offer attempt of session {SessionId} to agent {AgentId} failed; it stays queued")]
    public static partial void OfferAttemptFailed(this ILogger logger, Exception exception, string sessionId, string agentId);

    [LoggerMessage(EventId = LogEventIds.BackgroundWorkFailed, Level = LogLevel.Warning, Message = "Background routing work of {GrainId} failed")]
    public static partial void BackgroundWorkFailed(this ILogger logger, Exception exception, string grainId);

    [LoggerMessage(EventId = LogEventIds.OrphanedOfferReturned, Level = LogLevel.Warning, Message = "Session {SessionId} was still offered to agent {AgentId} well after the offer expired; it goes back to its queue")]
    public static partial void OrphanedOfferReturned(this ILogger logger, string sessionId, string agentId);

    [LoggerMessage(EventId = LogEventIds.EventsDropped, Level = LogLevel.Warning, Message = "{Count} routing event(s) were dropped since the last report: their follower did not take them ({Cause}: {Reason}); the routing steps stand, and followers read the state again")]
    public static partial void EventsDropped(this ILogger logger, long count, string cause, string reason);

    [LoggerMessage(EventId = LogEventIds.SessionCallbackRequested, Level = LogLevel.Debug, Message = "Session {SessionId} in {QueueId} is a callback now (scheduled: {Scheduled})")]
    public static partial void CallbackRequested(this ILogger logger, string sessionId, string queueId, bool scheduled);

    [LoggerMessage(EventId = LogEventIds.SessionOverflowed, Level = LogLevel.Information, Message = "Session {SessionId} overflowed from {QueueId} to {OverflowQueueId}")]
    public static partial void SessionOverflowed(this ILogger logger, string sessionId, string queueId, string? overflowQueueId);
}
