using Orleans.Concurrency;
using RoutingCluster.Abstractions.Common;
using RoutingCluster.Abstractions.Events;

namespace RoutingCluster.Abstractions.Sessions;

/// <summary>
/// One customer session: the single authority on its lifecycle. Whatever offers or connects it, the session
/// decides, so it can never be offered to two agents or end twice.
/// Calls into it come from the API, its queue's offer attempts and its agent; it calls queues (which never
/// wait on other grains) and never waits on an agent.
/// </summary>
[Alias("rc.session")]
public interface ISessionGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<CreateSessionResult> CreateAsync(NewSession request);

    [Alias("get")]
    Task<SessionView?> GetAsync();

    /// <summary>Registers <paramref name="follower"/> (or renews its lease) and answers the session as it is now, or null
    /// when it does not exist. Every transition from then on is pushed to it until the lease ends
    /// (<c>SessionFollowers.Lease</c>): a follower renews it by calling again.</summary>
    [Alias("follow")]
    Task<SessionView?> FollowAsync(ISessionFollower follower);

    [OneWay, Alias("unfollow")]
    Task UnfollowAsync(ISessionFollower follower);

    /// <summary>Its queue tells a followed session its place; the session passes it on to its followers.</summary>
    [OneWay, Alias("position")]
    Task PositionAsync(SessionUpdate update);

    /// <summary>Answers the session as it is afterwards.</summary>
    [Alias("abandon")]
    Task<Answer<SessionView>> AbandonAsync();

    /// <summary>The customer of a queued session leaves the line to be called back: at once (<paramref name="at"/> null,
    /// keeping the place) or at <paramref name="at"/>. Written before it is acknowledged.</summary>
    [Alias("request-callback")]
    Task<Outcome> RequestCallbackAsync(DateTimeOffset? at);

    /// <summary>Moves a connected session to another queue, or to an agent (as preferred agent in the target queue).</summary>
    [Alias("transfer")]
    Task<Answer<SessionView>> TransferAsync(string targetQueueId, string? targetAgentId, double agentWaitSeconds);

    /// <summary>queued → offered, if still queued and the offer has not expired on its way here.</summary>
    [Alias("offer")]
    Task<OfferReply> OfferAsync(OfferCommand offer);

    /// <summary>offered → connected, if offered to this agent and the offer has not expired.</summary>
    [Alias("connect")]
    Task<Outcome> ConnectAsync(string agentId);

    /// <summary>offered → queued at its original place, after a reject or a missed offer.</summary>
    [Alias("requeue")]
    Task RequeueAsync(string agentId, RequeueReason reason);

    /// <summary>connected → wrap-up.</summary>
    [Alias("end")]
    Task<Outcome> EndAsync(string agentId);

    /// <summary>wrap-up → completed.</summary>
    [Alias("complete")]
    Task CompleteAsync(string agentId);

    /// <summary>After a restart: a queued session puts itself back in its queue (original arrival and place).</summary>
    [Alias("resume")]
    Task ResumeAsync();

    /// <summary>Max wait reached in <paramref name="fromQueueId"/>: move to the overflow queue, or end as overflowed.</summary>
    [Alias("overflow")]
    Task OverflowAsync(string fromQueueId, string? overflowQueueId);

    /// <summary>Its own timer: an offer still open well after it expired (its agent lost track of it in a crash) goes
    /// back to the queue.</summary>
    [Alias("wake")]
    Task WakeAsync();
}
