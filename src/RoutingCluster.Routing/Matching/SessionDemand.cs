using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Ordering;

namespace RoutingCluster.Routing.Matching;

/// <summary>What the policy needs to know about a waiting session.</summary>
public sealed record SessionDemand
{
    public required string SessionId { get; init; }

    public required string QueueId { get; init; }

    public required Channel Channel { get; init; }

    /// <summary>When the session started waiting in this queue (kept across rejected and missed offers).</summary>
    public required DateTimeOffset Arrival { get; init; }

    public HeadStart HeadStart { get; init; } = HeadStart.None;

    /// <summary>The customer's segments (shown to the agent with the offer; the head start is derived from them).</summary>
    public IReadOnlyList<Segment> Segments { get; init; } = [];

    public IReadOnlyDictionary<string, int> RequiredSkills { get; init; } = new Dictionary<string, int>();

    public string? PreferredAgentId { get; init; }

    /// <summary>Until this instant only the preferred agent may take the session.</summary>
    public DateTimeOffset PreferredUntil { get; init; }

    /// <summary>Agents that rejected or missed an offer of this session.</summary>
    public IReadOnlySet<string> RejectedBy { get; init; } = new HashSet<string>();

    public long Sequence { get; init; }

    /// <summary>The customer asked to be called back and left the line: the session is not abandoned for waiting (the
    /// queue's max wait does not apply to it), and its offer tells the agent to call the customer. A callback whose
    /// <see cref="Arrival"/> is still ahead is scheduled: it waits for its place from that instant on.</summary>
    public bool Callback { get; init; }

    public WaitKey Key => WaitKey.For(Arrival, HeadStart, Sequence);

    public double ScoreAt(DateTimeOffset now) => PriorityPolicy.Score(Arrival, HeadStart, now);
}
