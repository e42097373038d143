using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Ordering;

namespace RoutingCluster.Routing.Tests;

/// <summary>Builders for the policy's inputs. Every instant is derived from <see cref="T0"/>: no clock.</summary>
internal static class Build
{
    public const string Queue = "cards";

    public static readonly DateTimeOffset T0 = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    private static long _sequence;

    /// <summary>A waiting session. Unless given, the sequence is unique, as a queue hands them out.</summary>
    public static SessionDemand Session(
        string id,
        DateTimeOffset arrival,
        HeadStart? headStart = null,
        Channel channel = Channel.Voice,
        string queue = Queue,
        IReadOnlyDictionary<string, int>? skills = null,
        string? preferredAgent = null,
        DateTimeOffset? preferredUntil = null,
        IEnumerable<string>? rejectedBy = null,
        long? sequence = null) => new()
        {
            SessionId = id,
            QueueId = queue,
            Channel = channel,
            Arrival = arrival,
            HeadStart = headStart ?? HeadStart.None,
            RequiredSkills = skills ?? new Dictionary<string, int>(),
            PreferredAgentId = preferredAgent,
            PreferredUntil = preferredUntil ?? arrival,
            RejectedBy = new HashSet<string>(rejectedBy ?? [], StringComparer.Ordinal),
            Sequence = sequence ?? Interlocked.Increment(ref _sequence),
        };

    /// <summary>A session whose head start comes from its customer, as the queue derives it.</summary>
    public static SessionDemand Customer(
        string id,
        DateTimeOffset arrival,
        QueuePolicy policy,
        int? age = null,
        params Segment[] segments)
    {
        var derived = PriorityPolicy.DeriveSegments(segments, age, policy.ElderlyAge);
        return Session(id, arrival, PriorityPolicy.HeadStartFor(derived, policy.HeadStarts));
    }

    /// <summary>A ready agent serving <see cref="Queue"/> with the default capacities.</summary>
    public static AgentSupply Agent(
        string id,
        DateTimeOffset? idleSince = null,
        AgentState state = AgentState.Ready,
        IReadOnlyDictionary<string, int>? skills = null,
        IReadOnlyList<string>? queues = null,
        IReadOnlyDictionary<Channel, int>? capacity = null,
        IReadOnlyDictionary<Channel, int>? active = null,
        long version = 1) => new()
        {
            AgentId = id,
            State = state,
            Skills = skills ?? new Dictionary<string, int>(),
            Queues = queues ?? [Queue],
            Capacity = capacity ?? ChannelRules.DefaultCapacity,
            Active = active ?? new Dictionary<Channel, int>(),
            IdleSince = idleSince ?? T0,
            Version = version,
        };

    public static Dictionary<string, int> Skills(params (string Skill, int Level)[] skills) =>
        skills.ToDictionary(s => s.Skill, s => s.Level, StringComparer.Ordinal);

    public static Dictionary<Channel, int> Channels(params (Channel Channel, int Count)[] counts) =>
        counts.ToDictionary(c => c.Channel, c => c.Count);

    public static readonly IReadOnlySet<string> NoneBusy = new HashSet<string>();

    public static Func<SessionDemand, bool> NoOneElse { get; } = _ => false;

    public static Func<SessionDemand, bool> SomeoneElse { get; } = _ => true;

    /// <summary>A roster that knows these agents' snapshots (each one must be taken: distinct ids or newer versions).</summary>
    public static RoutingCluster.Routing.Queueing.AgentRoster Roster(params AgentSupply[] agents)
    {
        var roster = new RoutingCluster.Routing.Queueing.AgentRoster();
        foreach (var a in agents)
        {
            Assert.True(roster.Update(a));
        }

        return roster;
    }
}
