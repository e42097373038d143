using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Abstractions.Metrics;

/// <summary>What an agent's time counts as (the agent-time KPIs: occupancy, utilisation, idle and not-ready time).</summary>
public static class AgentActivityRules
{
    /// <summary>Work held outranks the chosen state: talking to one customer and wrapping up another is busy; holding only
    /// offers is ringing; with nothing held, the chosen state decides.</summary>
    public static AgentActivity Of(AgentState state, IEnumerable<HeldState> held)
    {
        var any = false;
        var wrapUp = false;
        foreach (var h in held)
        {
            if (h == HeldState.Connected)
            {
                return AgentActivity.Busy;
            }

            any = true;
            wrapUp |= h == HeldState.WrapUp;
        }

        if (any)
        {
            return wrapUp ? AgentActivity.WrapUp : AgentActivity.Ringing;
        }

        return state switch
        {
            AgentState.Ready => AgentActivity.Idle,
            AgentState.NotReady => AgentActivity.NotReady,
            _ => AgentActivity.LoggedOut,
        };
    }
}
