namespace RoutingCluster.Grains.Agents;

/// <summary>Agent grain settings (configuration section <c>Agents</c>).</summary>
public sealed class AgentOptions
{
    /// <summary>How long an agent whose desktops all disconnected stays as it is before it is set not-ready.</summary>
    public TimeSpan DesktopGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an agent grain with a connected desktop stays active without calls (desktops renew
    /// their connection more often than this).</summary>
    public TimeSpan DesktopKeepAlive { get; set; } = TimeSpan.FromMinutes(5);
}
