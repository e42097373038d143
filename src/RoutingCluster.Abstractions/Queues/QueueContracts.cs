using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Queues;

/// <summary>A queue's configuration (<c>PUT/GET /v1/queues/{id}</c>): its name and routing policy.</summary>
[GenerateSerializer, Immutable, Alias("rc.queue-config")]
public sealed record QueueConfig
{
    [Id(0)] public required string Id { get; init; }

    [Id(1)] public string? Name { get; init; }

    [Id(2)] public required QueuePolicy Policy { get; init; }
}

/// <summary>A session asks its queue to hold it.</summary>
[GenerateSerializer, Immutable, Alias("rc.enqueue-request")]
public sealed record EnqueueRequest
{
    [Id(0)] public required string SessionId { get; init; }

    [Id(1)] public required Channel Channel { get; init; }

    [Id(2)] public required DateTimeOffset Arrival { get; init; }

    /// <summary>The customer's age, for the queue to derive the elderly segment with its own elderly age. Personal
    /// data: sent only while the session lives, kept by no queue, and left out of <see cref="ToString"/>.</summary>
    [Id(3)] public int? CustomerAge { get; init; }

    [Id(4)] public IReadOnlyList<Segment> DeclaredSegments { get; init; } = [];

    [Id(5)] public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    [Id(6)] public string? PreferredAgentId { get; init; }

    [Id(7)] public DateTimeOffset PreferredUntil { get; init; }

    [Id(8)] public IReadOnlyList<string> RejectedBy { get; init; } = [];

    /// <summary>A session coming back after a reject or missed offer is always taken, even when the queue is full.</summary>
    [Id(9)] public bool IsReturn { get; init; }

    /// <summary>The place the queue gave the session when it first arrived, kept when it comes back, so that
    /// among sessions that arrived in the same instant it keeps its turn.</summary>
    [Id(10)] public long? Sequence { get; init; }

    /// <summary>Someone follows the session (<c>ISessionGrain.FollowAsync</c>): the queue tells it its place while it
    /// waits. A session nobody follows is told nothing.</summary>
    [Id(11)] public bool Followed { get; init; }

    /// <summary>The customer asked to be called back (see <see cref="SessionDemand.Callback"/>): a scheduled one comes
    /// with its scheduled instant as <see cref="Arrival"/>.</summary>
    [Id(12)] public bool Callback { get; init; }

    public override string ToString() =>
        $"EnqueueRequest {{ SessionId = {SessionId}, Channel = {Channel}, Arrival = {Arrival:O}, IsReturn = {IsReturn}, Callback = {Callback} }}";
}

public enum EnqueueStatus
{
    Accepted,
    QueueNotFound,
    QueueFull,
}

[GenerateSerializer, Immutable, Alias("rc.enqueue-result")]
public sealed record EnqueueResult(
    [property: Id(0)] EnqueueStatus Status,
    [property: Id(1)] IReadOnlyList<Segment> Segments,
    [property: Id(2)] HeadStart HeadStart,
    [property: Id(3)] string? OverflowQueueId = null,
    [property: Id(4)] long Sequence = 0,
    [property: Id(5)] double ServiceLevelSeconds = 20);

/// <summary>The best session a queue has for an agent, before the agent claims it. <see cref="OfferInFlight"/>:
/// the queue is already offering this agent one of its sessions (that offer reaches the agent next, so the
/// agent should wait for it rather than take a session behind it).</summary>
[GenerateSerializer, Immutable, Alias("rc.peek-result")]
public sealed record PeekResult([property: Id(0)] string SessionId, [property: Id(1)] SessionDemand? Session, [property: Id(2)] bool OfferInFlight = false);

/// <summary>A session handed to an agent that claimed it, with what the agent needs to offer it.</summary>
[GenerateSerializer, Immutable, Alias("rc.claimed-session")]
public sealed record ClaimedSession(
    [property: Id(0)] SessionDemand Session,
    [property: Id(1)] QueuePolicy Policy,
    [property: Id(2)] int RelaxationStep);

/// <summary>What a queue holds right now.</summary>
[GenerateSerializer, Immutable, Alias("rc.queue-live")]
public sealed record QueueLive(
    [property: Id(0)] string QueueId,
    [property: Id(1)] int Waiting,
    [property: Id(2)] int Offering,
    [property: Id(3)] DateTimeOffset? OldestArrival,
    [property: Id(4)] int AgentsKnown,
    [property: Id(5)] int AgentsFree)
{
    /// <summary>The queue's service-level threshold, in seconds.</summary>
    [Id(6)] public double ServiceLevelSeconds { get; init; } = 20;

    /// <summary>Agents serving the queue who are ready and hold nothing.</summary>
    [Id(7)] public int AgentsIdle { get; init; }

    /// <summary>Agents serving the queue who hold a session or an offer (talking, ringing or in wrap-up).</summary>
    [Id(8)] public int AgentsBusy { get; init; }

    /// <summary>Agents serving the queue who are logged in, not ready and hold nothing.</summary>
    [Id(9)] public int AgentsNotReady { get; init; }

    /// <summary>Waiting sessions of each segment (a session of two segments counts in both).</summary>
    [Id(10)] public IReadOnlyDictionary<Segment, SegmentWaiting> BySegment { get; init; } = new Dictionary<Segment, SegmentWaiting>();

    /// <summary>Callbacks among the waiting sessions (counted in <see cref="Waiting"/> too): customers who hung up and
    /// wait for an agent to call them back.</summary>
    [Id(11)] public int CallbacksWaiting { get; init; }

    /// <summary>Scheduled callbacks whose time has not come (not counted in <see cref="Waiting"/>: they do not wait yet).</summary>
    [Id(12)] public int CallbacksScheduled { get; init; }
}

/// <summary>How many sessions of a segment wait in a queue, and since when the longest of them has.</summary>
[GenerateSerializer, Immutable, Alias("rc.segment-waiting")]
public sealed record SegmentWaiting([property: Id(0)] int Waiting, [property: Id(1)] DateTimeOffset? OldestArrival);
