using RoutingCluster.Abstractions.Common;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Agents;

/// <summary>
/// One agent: the single authority on its capacity. Every reservation (offer) is made here, atomically, so
/// two queues can never over-fill an agent. It waits on its sessions and queues; nothing it calls waits on it.
/// </summary>
/// <remarks>Every action answers the agent as it is afterwards, so an API needs one call per action.</remarks>
[Alias("rc.agent")]
public interface IAgentGrain : IGrainWithStringKey
{
    [Alias("put-profile")]
    Task<AgentView> PutProfileAsync(AgentProfile profile);

    [Alias("set-state")]
    Task<Answer<AgentView>> SetStateAsync(AgentState state, string? reason);

    /// <summary>A supervisor sets the agent <c>not-ready</c> or <c>logged-out</c> in its place: the state is marked
    /// as forced (by whom) until the agent chooses a state again. Work the agent holds stays with it.</summary>
    [Alias("force-state")]
    Task<Answer<AgentView>> ForceStateAsync(AgentState state, string reason, string supervisor);

    /// <summary>The agent serves these queues from now on. Sessions and offers it holds stay with it, whatever
    /// queue they came from; the queues it leaves stop offering it anything new. Null when the agent does not exist.</summary>
    [Alias("move-queues")]
    Task<AgentView?> MoveToQueuesAsync(IReadOnlyList<string> queues);

    [Alias("get")]
    Task<AgentView?> GetAsync();

    [Alias("accept")]
    Task<Answer<AgentView>> AcceptAsync(string sessionId);

    [Alias("reject")]
    Task<Answer<AgentView>> RejectAsync(string sessionId);

    [Alias("end")]
    Task<Answer<AgentView>> EndAsync(string sessionId);

    [Alias("wrap-up-done")]
    Task<Answer<AgentView>> WrapUpDoneAsync(string sessionId);

    /// <summary>A queue's offer attempt: reserve capacity for the session and offer it, or say why not.</summary>
    [Alias("try-offer")]
    Task<OfferAttemptResult> TryOfferAsync(OfferRequest request);

    /// <summary>The customer left while the offer was pending.</summary>
    [Alias("offer-withdrawn")]
    Task OfferWithdrawnAsync(string sessionId);

    /// <summary>The session this agent held was transferred away: the agent's part goes to wrap-up.</summary>
    [Alias("session-transferred")]
    Task SessionTransferredAsync(string sessionId);

    /// <summary>Publish the current snapshot to every queue served (a queue that was reactivated asks for it).</summary>
    [Alias("republish")]
    Task RepublishAsync();

    /// <summary>A desktop of this agent connected (or is still connected: desktops call this again
    /// periodically). Updates are pushed to <paramref name="relay"/> from now on.</summary>
    [Alias("desktop-connected")]
    Task<AgentView?> DesktopConnectedAsync(string connectionId, IAgentDesktopObserver relay);

    /// <summary>A desktop's connection dropped. When no desktop is left for the grace period, the agent is set
    /// not-ready (reason <c>disconnected</c>); pending offers stay until they are answered or expire.</summary>
    [Alias("desktop-disconnected")]
    Task DesktopDisconnectedAsync(string connectionId);

    /// <summary>Offer expiries, wrap-up ends and desktop grace periods that are due.</summary>
    [Alias("wake")]
    Task WakeAsync();
}
