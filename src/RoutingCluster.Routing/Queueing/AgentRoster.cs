using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Queueing;

/// <summary>
/// A queue's view of its agents: the latest snapshot each published, with the agents that have free
/// capacity kept in longest-idle order so that the default strategy stops at the first eligible agent.
/// </summary>
public sealed class AgentRoster
{
    private static readonly IComparer<AgentSupply> IdleOrder = Comparer<AgentSupply>.Create((a, b) =>
    {
        var c = a.IdleSince.UtcTicks.CompareTo(b.IdleSince.UtcTicks);
        return c != 0 ? c : string.CompareOrdinal(a.AgentId, b.AgentId);
    });

    /// <summary>Under longest-idle, eligible agents are counted (for the explanation) up to this many.</summary>
    public const int CandidateCountLimit = 256;

    private readonly Dictionary<string, AgentSupply> _agents = new(StringComparer.Ordinal);
    private readonly SortedSet<AgentSupply> _free = new(IdleOrder);

    public int Count => _agents.Count;

    public int FreeCount => _free.Count;

    public IEnumerable<AgentSupply> All => _agents.Values;

    /// <summary>Agents with free capacity, longest idle first.</summary>
    public IEnumerable<AgentSupply> Free => _free;

    public bool TryGet(string agentId, out AgentSupply supply) => _agents.TryGetValue(agentId, out supply!);

    /// <summary>Records a snapshot unless an equal or newer one is already known. Returns whether it was applied.</summary>
    public bool Update(AgentSupply supply)
    {
        if (_agents.TryGetValue(supply.AgentId, out var known))
        {
            if (known.Version >= supply.Version)
            {
                return false;
            }

            _free.Remove(known);
        }

        _agents[supply.AgentId] = supply;
        if (supply.HasFreeCapacity)
        {
            _free.Add(supply);
        }

        return true;
    }

    public void Remove(string agentId)
    {
        if (_agents.Remove(agentId, out var known))
        {
            _free.Remove(known);
        }
    }

    /// <summary>
    /// Agent surplus: the agent a newly waiting session goes to, by the queue's strategy, skipping agents in
    /// <paramref name="busy"/> (offers in flight). Also counts the eligible candidates (for the explanation; under
    /// longest-idle, up to <see cref="CandidateCountLimit"/>).
    /// </summary>
    public AgentChoice? PickFor(SessionDemand session, QueuePolicy policy, DateTimeOffset now, IReadOnlySet<string> busy)
    {
        // The preferred agent first, looked up directly: it wins whenever it is eligible.
        if (session.PreferredAgentId is { } preferredId
            && _agents.TryGetValue(preferredId, out var preferred)
            && !busy.Contains(preferredId)
            && !session.RejectedBy.Contains(preferredId)
            && Eligibility.IsEligible(preferred, session, policy, now, out var preferredStep))
        {
            return new AgentChoice(preferred, preferredStep, 1);
        }

        if (Eligibility.WithinPreferredWindow(session, now))
        {
            return null;
        }

        AgentSupply? best = null;
        var bestStep = -1;
        var candidates = 0;
        AgentSupply? rejectedFallback = null;
        var fallbackStep = -1;
        var longestIdle = policy.AgentSelection == AgentSelection.LongestIdle;
        foreach (var agent in _free)
        {
            // Longest idle: the free agents are in idle order, so the first eligible one wins; the rest are only
            // counted for the explanation, up to a bound that keeps one decision cheap with thousands free.
            if (longestIdle && best is not null && candidates >= CandidateCountLimit)
            {
                break;
            }

            if (busy.Contains(agent.AgentId) || !Eligibility.IsEligible(agent, session, policy, now, out var step))
            {
                continue;
            }

            if (session.RejectedBy.Contains(agent.AgentId))
            {
                if (rejectedFallback is null || AgentSelector.Better(agent, rejectedFallback, session, policy.AgentSelection))
                {
                    rejectedFallback = agent;
                    fallbackStep = step;
                }

                continue;
            }

            candidates++;
            if (best is null || AgentSelector.Better(agent, best, session, policy.AgentSelection))
            {
                best = agent;
                bestStep = step;
            }
        }

        if (best is not null)
        {
            return new AgentChoice(best, bestStep, candidates);
        }

        return rejectedFallback is null ? null : new AgentChoice(rejectedFallback, fallbackStep, 1);
    }

    /// <summary>Whether an agent other than <paramref name="agentId"/> with free capacity is eligible for the session now.</summary>
    public bool AnyoneElseEligible(SessionDemand session, string agentId, QueuePolicy policy, DateTimeOffset now) =>
        _free.Any(a => a.AgentId != agentId && !session.RejectedBy.Contains(a.AgentId) && Eligibility.IsEligible(a, session, policy, now));
}

/// <summary>The agent chosen for a session, the relaxation step it matched at, and how many were eligible.</summary>
public readonly record struct AgentChoice(AgentSupply Agent, int RelaxationStep, int CandidateCount);
