namespace RoutingCluster.Grains.Agents;

/// <summary>Agent grain settings (configuration section <c>Agents</c>).</summary>
public sealed class AgentOptions
{
    /// <summary>How long an agent whose desktops all disconnected stays as it is before it is set not-ready.</summary>
    public TimeSpan DesktopGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An offer that reached the agent's desktops less than this long before it expired (at most half the
    /// queue's offer timeout), or never reached them, and went unanswered is not held against the agent: the session goes back to its queue, the agent stays as
    /// it is. An agent without a desktop (working through the HTTP API) is held to every offer.</summary>
    public TimeSpan MinAnswerWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long an expiring offer waits for the desktops' relays to say when they showed it.</summary>
    public TimeSpan OfferShownTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an agent grain with a connected desktop stays active without calls (desktops renew
    /// their connection more often than this: <see cref="DesktopRenewInterval"/>).</summary>
    public TimeSpan DesktopKeepAlive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often each silo's desktop relay registers its connected desktops again with their agents' grains:
    /// the backstop that reaches a grain which lost its desktops without the relay hearing of it. Shorter than
    /// <see cref="DesktopKeepAlive"/>.</summary>
    public TimeSpan DesktopRenewInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long after a queue answered that its stored membership does not hold the agent yet (its write
    /// still running, or lost in a crash) the agent publishes to that queue again, until it does.</summary>
    public TimeSpan MembershipCheckDelay { get; set; } = TimeSpan.FromSeconds(10);
}
