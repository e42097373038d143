using System.Text.Json.Serialization;

namespace RoutingCluster.Client;

// The contract's enumerations. On the wire they are kebab-case strings (WireNames, through RoutingJson): "logged-out",
// "not-ready", "wrap-up", "longest-idle", "most-skilled", and "5g" for FiveG.

/// <summary>The channel a customer contact arrives on.</summary>
public enum Channel
{
    Voice,
    Video,
    Chat,
    App,
    Wechat,
    Sms,
    Email,
    Weibo,

    /// <summary>5G messaging; <c>"5g"</c> on the wire.</summary>
    [JsonStringEnumMemberName("5g")]
    FiveG,
}

/// <summary>Customer segments that carry a priority head start.</summary>
public enum Segment
{
    Elderly,
    Disabled,
    Military,
    Vip,
}

/// <summary>The state an agent chose. "Busy" is not a state: it shows in the sessions the agent holds.</summary>
public enum AgentState
{
    LoggedOut,
    Ready,
    NotReady,
}

/// <summary>A session held by an agent.</summary>
public enum HeldState
{
    Offered,
    Connected,
    WrapUp,
}

public enum SessionState
{
    Queued,
    Offered,
    Connected,
    WrapUp,
    Completed,
    Abandoned,
    Overflowed,
    Refused,
}

/// <summary>How a queue picks among several eligible agents.</summary>
public enum AgentSelection
{
    LongestIdle,
    MostSkilled,
}

/// <summary>What an offer asks of the agent: take a customer on the line, or call the customer back.</summary>
public enum OfferKind
{
    Inbound,
    Callback,
}

/// <summary>Kinds of session updates a gateway receives (<see cref="RoutingClient.FollowSessionAsync"/>).</summary>
public enum SessionEventType
{
    Queued,
    Position,
    Offered,
    Connected,
    Ended,
    Completed,
    Abandoned,
    Overflowed,
    Transferred,
    Refused,
}

public static class SessionStateExtensions
{
    /// <summary>Terminal states: a session reaches exactly one of them, once.</summary>
    public static bool IsTerminal(this SessionState state) =>
        state is SessionState.Completed or SessionState.Abandoned or SessionState.Overflowed or SessionState.Refused;
}
