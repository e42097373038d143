using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Matching;

/// <summary>An agent as the policy sees it: a snapshot that the agent's own grain publishes whenever it changes.</summary>
public sealed record AgentSupply
{
    private readonly IReadOnlyDictionary<Channel, int> _active = new Dictionary<Channel, int>();

    public required string AgentId { get; init; }

    public AgentState State { get; init; } = AgentState.LoggedOut;

    public IReadOnlyDictionary<string, int> Skills { get; init; } = new Dictionary<string, int>();

    public IReadOnlyList<string> Queues { get; init; } = [];

    public IReadOnlyDictionary<Channel, int> Capacity { get; init; } = ChannelRules.DefaultCapacity;

    /// <summary>Sessions held or offered, per channel (offers count: a reservation uses capacity).</summary>
    public IReadOnlyDictionary<Channel, int> Active
    {
        get => _active;
        init
        {
            _active = value;
            ActiveTotal = value.Values.Sum();
            HoldsExclusive = value.Any(kv => kv.Value > 0 && ChannelRules.IsExclusive(kv.Key));
        }
    }

    /// <summary>Since when the agent has been free: the last time it became ready or finished a session.</summary>
    public DateTimeOffset IdleSince { get; init; }

    /// <summary>Grows with every change, so a receiver can drop a snapshot older than one it has.</summary>
    public long Version { get; init; }

    /// <summary>Sessions held or offered on all channels (computed when <see cref="Active"/> is set).</summary>
    public int ActiveTotal { get; private init; }

    public int ActiveOn(Channel channel) => Active.GetValueOrDefault(channel);

    /// <summary>A voice or video session is held or offered (computed when <see cref="Active"/> is set).</summary>
    public bool HoldsExclusive { get; private init; }

    /// <summary>Ready, and able to take one more session on <paramref name="channel"/> right now.</summary>
    public bool CanTake(Channel channel)
    {
        if (State != AgentState.Ready || HoldsExclusive)
        {
            return false;
        }

        if (ChannelRules.IsExclusive(channel) && ActiveTotal > 0)
        {
            return false;
        }

        return ActiveOn(channel) < Capacity.GetValueOrDefault(channel);
    }

    /// <summary>True when the agent could take a session on some channel.</summary>
    public bool HasFreeCapacity => Capacity.Keys.Any(CanTake);
}
