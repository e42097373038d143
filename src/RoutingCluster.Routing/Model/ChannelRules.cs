namespace RoutingCluster.Routing.Model;

/// <summary>Channel capacities and exclusivity.</summary>
public static class ChannelRules
{
    /// <summary>
    /// Capacity of an agent whose profile names none: one voice or video call, three chats (and
    /// three of each messaging channel: app, WeChat, SMS, Weibo, 5G), five emails. A profile that names
    /// capacities names them all: a channel it leaves out is one the agent does not work.
    /// </summary>
    public static IReadOnlyDictionary<Channel, int> DefaultCapacity { get; } = new Dictionary<Channel, int>
    {
        [Channel.Voice] = 1,
        [Channel.Video] = 1,
        [Channel.Chat] = 3,
        [Channel.App] = 3,
        [Channel.Wechat] = 3,
        [Channel.Sms] = 3,
        [Channel.Weibo] = 3,
        [Channel.FiveG] = 3,
        [Channel.Email] = 5,
    };

    /// <summary>Voice and video need the agent's whole attention: while one is active nothing else is offered,
    /// and one is offered only to an agent that holds nothing.</summary>
    public static bool IsExclusive(Channel channel) => channel is Channel.Voice or Channel.Video;
}
