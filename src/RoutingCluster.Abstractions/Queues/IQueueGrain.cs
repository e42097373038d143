using Orleans.Concurrency;
using RoutingCluster.Routing.Matching;

namespace RoutingCluster.Abstractions.Queues;

/// <summary>
/// One queue: its configuration, its waiting sessions in service order, and a view of its agents' capacity.
/// A queue never waits on another grain inside a call (offer attempts run beside its turns), so sessions
/// and agents may always call it without risk of a deadlock.
/// </summary>
[Alias("rc.queue")]
public interface IQueueGrain : IGrainWithStringKey
{
    [Alias("put")]
    Task<QueueConfig> PutAsync(QueueConfig config);

    [Alias("get")]
    Task<QueueConfig?> GetAsync();

    [Alias("live")]
    Task<QueueLive> GetLiveAsync();

    /// <summary>The agents serving this queue as it last heard from them, in no particular order.</summary>
    [Alias("agents")]
    Task<IReadOnlyList<AgentSupply>> GetAgentsAsync();

    [Alias("enqueue")]
    Task<EnqueueResult> EnqueueAsync(EnqueueRequest request);

    /// <summary>The session left (abandoned): forget it.</summary>
    [Alias("remove")]
    Task RemoveAsync(string sessionId);

    /// <summary>The customer of a waiting session asked to be called back: at once (<paramref name="at"/> null, keeping
    /// its place) or at <paramref name="at"/> (it waits from then on, as if it arrived then).</summary>
    [Alias("request-callback")]
    Task RequestCallbackAsync(string sessionId, DateTimeOffset? at);

    /// <summary>An agent's latest snapshot (it publishes one whenever its availability changes). Answers whether the
    /// queue's stored membership already agrees with it (the agent is stored as a member exactly when it serves the
    /// queue): a join is acknowledged before it is written, and an agent that hears <c>false</c> publishes again a
    /// little later, so a join lost in a crash before its write is made again.</summary>
    [Alias("update-agent")]
    Task<bool> UpdateAgentAsync(AgentSupply agent);

    /// <summary>Session surplus, step 1: the best waiting session this agent may take, without claiming it.</summary>
    [Alias("peek-best")]
    Task<PeekResult?> PeekBestAsync(AgentSupply agent);

    /// <summary>Session surplus, step 2: take that session out of the queue for this agent, if still waiting.
    /// With <paramref name="sessionId"/> null, claims the best session for the agent in one step.</summary>
    [Alias("claim")]
    Task<ClaimedSession?> ClaimAsync(AgentSupply agent, string? sessionId);

    /// <summary>A claimed session could not be offered after all: put it back at its place.</summary>
    [Alias("give-back")]
    Task GiveBackAsync(SessionDemand session);

    /// <summary>A waiting session gained its first follower (or lost its last one): the queue tells it its place from now on
    /// (or no more). One-way: the session does not wait on the queue for this.</summary>
    [OneWay, Alias("session-followed")]
    Task SessionFollowedAsync(string sessionId, bool followed);

    /// <summary>Relaxation steps, preferred-agent windows and max waits that are due.</summary>
    [Alias("wake")]
    Task WakeAsync();
}
