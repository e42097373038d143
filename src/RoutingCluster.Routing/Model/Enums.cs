using System.Text.Json.Serialization;

namespace RoutingCluster.Routing.Model;

/// <summary>The channel a customer contact arrives on. Wire names are kebab-case (<c>5g</c> for 5G messaging).</summary>
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

/// <summary>The state an agent chose. "Busy" is not a state: it is derived from the sessions held.</summary>
public enum AgentState
{
    LoggedOut,
    Ready,
    NotReady,
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

/// <summary>What an offer asks of the agent: take a customer on the line (<c>inbound</c>) or call the customer back
/// (<c>callback</c>).</summary>
public enum OfferKind
{
    Inbound,
    Callback,
}

public enum AgentSelection
{
    LongestIdle,
    MostSkilled,
}

public static class SessionStates
{
    /// <summary>Terminal states: a session reaches exactly one of them, once.</summary>
    public static bool IsTerminal(this SessionState state) =>
        state is SessionState.Completed or SessionState.Abandoned or SessionState.Overflowed or SessionState.Refused;
}
