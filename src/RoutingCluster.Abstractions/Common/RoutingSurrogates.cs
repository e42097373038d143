using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Common;

// The routing policy has no Orleans reference, so its types cross grain boundaries through these
// surrogates (Orleans' documented way to serialize types it does not own).

[GenerateSerializer, Alias("rc.head-start")]
public struct HeadStartSurrogate
{
    [Id(0)] public double Seconds;
    [Id(1)] public bool IsStrict;
}

[RegisterConverter]
public sealed class HeadStartConverter : IConverter<HeadStart, HeadStartSurrogate>
{
    public HeadStart ConvertFromSurrogate(in HeadStartSurrogate surrogate) => new(surrogate.Seconds, surrogate.IsStrict);

    public HeadStartSurrogate ConvertToSurrogate(in HeadStart value) => new() { Seconds = value.Seconds, IsStrict = value.IsStrict };
}

[GenerateSerializer, Alias("rc.relaxation-step")]
public struct RelaxationStepSurrogate
{
    [Id(0)] public double AfterSeconds;
    [Id(1)] public int LowerBy;
}

[RegisterConverter]
public sealed class RelaxationStepConverter : IConverter<RelaxationStep, RelaxationStepSurrogate>
{
    public RelaxationStep ConvertFromSurrogate(in RelaxationStepSurrogate s) => new(s.AfterSeconds, s.LowerBy);

    public RelaxationStepSurrogate ConvertToSurrogate(in RelaxationStep v) => new() { AfterSeconds = v.AfterSeconds, LowerBy = v.LowerBy };
}

[GenerateSerializer, Alias("rc.queue-policy")]
public struct QueuePolicySurrogate
{
    [Id(0)] public double ServiceLevelSeconds;
    [Id(1)] public double OfferTimeoutSeconds;
    [Id(2)] public double WrapUpSeconds;
    [Id(3)] public int ElderlyAge;
    [Id(4)] public Dictionary<Segment, HeadStart> HeadStarts;
    [Id(5)] public AgentSelection AgentSelection;
    [Id(6)] public List<RelaxationStep> Relaxation;
    [Id(7)] public int MaxWaiting;
    [Id(8)] public double MaxWaitSeconds;
    [Id(9)] public string? OverflowQueueId;
    [Id(10)] public bool HasAlerts;
    [Id(11)] public double? AlertLongestWaitSeconds;
    [Id(12)] public double? AlertElderlyLongestWaitSeconds;
    [Id(13)] public double? AlertServiceLevelBelow;
    [Id(14)] public int? AlertWaitingAbove;
    [Id(15)] public double? CallbackOfferOverSeconds;
}

[RegisterConverter]
public sealed class QueuePolicyConverter : IConverter<QueuePolicy, QueuePolicySurrogate>
{
    public QueuePolicy ConvertFromSurrogate(in QueuePolicySurrogate s) => new()
    {
        ServiceLevelSeconds = s.ServiceLevelSeconds,
        OfferTimeoutSeconds = s.OfferTimeoutSeconds,
        WrapUpSeconds = s.WrapUpSeconds,
        ElderlyAge = s.ElderlyAge,
        HeadStarts = s.HeadStarts,
        AgentSelection = s.AgentSelection,
        Relaxation = s.Relaxation,
        MaxWaiting = s.MaxWaiting,
        MaxWaitSeconds = s.MaxWaitSeconds,
        OverflowQueueId = s.OverflowQueueId,
        Alerts = s.HasAlerts
            ? new Routing.Alerts.AlertBounds
            {
                LongestWaitSeconds = s.AlertLongestWaitSeconds,
                ElderlyLongestWaitSeconds = s.AlertElderlyLongestWaitSeconds,
                ServiceLevelBelow = s.AlertServiceLevelBelow,
                WaitingAbove = s.AlertWaitingAbove,
            }
            : null,
        CallbackOffer = s.CallbackOfferOverSeconds is { } over ? new CallbackOffer(over) : null,
    };

    public QueuePolicySurrogate ConvertToSurrogate(in QueuePolicy v) => new()
    {
        ServiceLevelSeconds = v.ServiceLevelSeconds,
        OfferTimeoutSeconds = v.OfferTimeoutSeconds,
        WrapUpSeconds = v.WrapUpSeconds,
        ElderlyAge = v.ElderlyAge,
        HeadStarts = new Dictionary<Segment, HeadStart>(v.HeadStarts),
        AgentSelection = v.AgentSelection,
        Relaxation = [.. v.Relaxation],
        MaxWaiting = v.MaxWaiting,
        MaxWaitSeconds = v.MaxWaitSeconds,
        OverflowQueueId = v.OverflowQueueId,
        HasAlerts = v.Alerts is not null,
        AlertLongestWaitSeconds = v.Alerts?.LongestWaitSeconds,
        AlertElderlyLongestWaitSeconds = v.Alerts?.ElderlyLongestWaitSeconds,
        AlertServiceLevelBelow = v.Alerts?.ServiceLevelBelow,
        AlertWaitingAbove = v.Alerts?.WaitingAbove,
        CallbackOfferOverSeconds = v.CallbackOffer?.WhenEstimatedWaitOverSeconds,
    };
}

[GenerateSerializer, Alias("rc.agent-supply")]
public struct AgentSupplySurrogate
{
    [Id(0)] public string AgentId;
    [Id(1)] public AgentState State;
    [Id(2)] public Dictionary<string, int> Skills;
    [Id(3)] public List<string> Queues;
    [Id(4)] public Dictionary<Channel, int> Capacity;
    [Id(5)] public Dictionary<Channel, int> Active;
    [Id(6)] public DateTimeOffset IdleSince;
    [Id(7)] public long Version;
}

[RegisterConverter]
public sealed class AgentSupplyConverter : IConverter<AgentSupply, AgentSupplySurrogate>
{
    public AgentSupply ConvertFromSurrogate(in AgentSupplySurrogate s) => new()
    {
        AgentId = s.AgentId,
        State = s.State,
        Skills = s.Skills,
        Queues = s.Queues,
        Capacity = s.Capacity,
        Active = s.Active,
        IdleSince = s.IdleSince,
        Version = s.Version,
    };

    public AgentSupplySurrogate ConvertToSurrogate(in AgentSupply v) => new()
    {
        AgentId = v.AgentId,
        State = v.State,
        Skills = new Dictionary<string, int>(v.Skills),
        Queues = [.. v.Queues],
        Capacity = new Dictionary<Channel, int>(v.Capacity),
        Active = new Dictionary<Channel, int>(v.Active),
        IdleSince = v.IdleSince,
        Version = v.Version,
    };
}

[GenerateSerializer, Alias("rc.session-demand")]
public struct SessionDemandSurrogate
{
    [Id(0)] public string SessionId;
    [Id(1)] public string QueueId;
    [Id(2)] public Channel Channel;
    [Id(3)] public DateTimeOffset Arrival;
    [Id(4)] public HeadStart HeadStart;
    [Id(5)] public Dictionary<string, int> RequiredSkills;
    [Id(6)] public string? PreferredAgentId;
    [Id(7)] public DateTimeOffset PreferredUntil;
    [Id(8)] public HashSet<string> RejectedBy;
    [Id(9)] public long Sequence;
    [Id(10)] public List<Segment> Segments;
    [Id(11)] public bool Callback;
}

[RegisterConverter]
public sealed class SessionDemandConverter : IConverter<SessionDemand, SessionDemandSurrogate>
{
    public SessionDemand ConvertFromSurrogate(in SessionDemandSurrogate s) => new()
    {
        SessionId = s.SessionId,
        QueueId = s.QueueId,
        Channel = s.Channel,
        Arrival = s.Arrival,
        HeadStart = s.HeadStart,
        RequiredSkills = s.RequiredSkills,
        PreferredAgentId = s.PreferredAgentId,
        PreferredUntil = s.PreferredUntil,
        RejectedBy = s.RejectedBy,
        Sequence = s.Sequence,
        Segments = s.Segments ?? [],
        Callback = s.Callback,
    };

    public SessionDemandSurrogate ConvertToSurrogate(in SessionDemand v) => new()
    {
        SessionId = v.SessionId,
        QueueId = v.QueueId,
        Channel = v.Channel,
        Arrival = v.Arrival,
        HeadStart = v.HeadStart,
        RequiredSkills = new Dictionary<string, int>(v.RequiredSkills),
        PreferredAgentId = v.PreferredAgentId,
        PreferredUntil = v.PreferredUntil,
        RejectedBy = [.. v.RejectedBy],
        Sequence = v.Sequence,
        Segments = [.. v.Segments],
        Callback = v.Callback,
    };
}
