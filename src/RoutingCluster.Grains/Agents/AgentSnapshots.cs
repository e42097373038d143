using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Routing.Matching;

namespace RoutingCluster.Grains.Agents;

/// <summary>What an agent's record looks like to others: its availability for the queues, its view for desktops and
/// the API, and when its next offer expires or wrap-up ends.</summary>
internal static class AgentSnapshots
{
    /// <summary>The agent's availability as its queues route with it.</summary>
    public static AgentSupply Supply(string id, AgentRecord record) => new()
    {
        AgentId = id,
        State = record.State,
        Skills = record.Skills,
        Queues = record.Queues,
        Capacity = record.Capacity,
        Active = record.Sessions.Values.GroupBy(h => h.Channel).ToDictionary(g => g.Key, g => g.Count()),
        IdleSince = record.IdleSince,
        Version = record.Version,
    };

    /// <summary>An agent that does not exist serves no queue: a queue that hears this forgets it.</summary>
    public static AgentSupply Gone(string id) => new() { AgentId = id, Queues = [] };

    /// <summary>
    /// The agent as its desktops and the API see it at <paramref name="now"/>. An offer past its expiry is not listed,
    /// though the agent keeps its capacity reserved until its alarm lets it go: it can no longer be accepted, and once
    /// its session has been offered to someone else (the session takes back an offer its agent has not ended in
    /// time) a view still listing it would show the session with two agents at once.
    /// </summary>
    public static AgentView View(string id, AgentRecord record, DateTimeOffset now) => new()
    {
        Id = id,
        Name = record.Name,
        State = record.State,
        Reason = record.Reason,
        StateSince = record.StateSince,
        Skills = record.Skills,
        Queues = record.Queues,
        Capacity = record.Capacity,
        Sessions = [.. record.Sessions.Values.Where(h => h.State != HeldState.Offered)
            .Select(h => new AgentSessionView(h.SessionId, h.Channel, h.State, h.QueueId, h.Since, h.WrapUpUntil))],
        Offers = [.. record.Sessions.Values.Where(h => h.State == HeldState.Offered && !OfferTerms.HasExpired(h.ExpiresAt, now))
            .Select(h => new AgentOfferView(h.SessionId, h.ExpiresAt, h.Channel, h.QueueId, h.OfferedAt) { Segments = h.Segments, QueuedAt = h.QueuedAt, Kind = h.Callback ? Routing.Model.OfferKind.Callback : Routing.Model.OfferKind.Inbound })],
        Version = record.Version,
        ForcedBy = record.ForcedBy,
    };

    /// <summary>The earliest instant at which an offer the agent holds expires or a wrap-up ends (null: none).</summary>
    public static DateTimeOffset? NextDue(AgentRecord record)
    {
        DateTimeOffset? next = null;
        foreach (var held in record.Sessions.Values)
        {
            DateTimeOffset? due = held.State switch
            {
                HeldState.Offered => held.ExpiresAt,
                HeldState.WrapUp => held.WrapUpUntil,
                _ => null,
            };
            if (due is { } d && (next is null || d < next))
            {
                next = d;
            }
        }

        return next;
    }
}
