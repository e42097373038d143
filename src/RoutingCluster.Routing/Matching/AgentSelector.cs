using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Matching;

/// <summary>
/// Agent surplus: the order of several eligible agents for a session, by the queue's strategy: <c>longest-idle</c>
/// (earliest <see cref="AgentSupply.IdleSince"/>), or <c>most-skilled</c> (highest sum of levels on the required skills,
/// then longest idle). Ties go to the lowest agent id, so the choice is deterministic. The queue's agent roster
/// (<see cref="Queueing.AgentRoster.PickFor"/>) picks by it.
/// </summary>
public static class AgentSelector
{
    /// <summary>The sum of the agent's levels on the session's required skills.</summary>
    public static int SkillScore(AgentSupply agent, SessionDemand session)
    {
        var score = 0;
        if (session.RequiredSkills is Dictionary<string, int> skills)
        {
            foreach (var (skill, _) in skills)
            {
                score += agent.Skills.GetValueOrDefault(skill);
            }

            return score;
        }

        foreach (var (skill, _) in session.RequiredSkills)
        {
            score += agent.Skills.GetValueOrDefault(skill);
        }

        return score;
    }

    public static bool Better(AgentSupply candidate, AgentSupply incumbent, SessionDemand session, AgentSelection strategy)
    {
        if (strategy == AgentSelection.MostSkilled)
        {
            var c = SkillScore(candidate, session).CompareTo(SkillScore(incumbent, session));
            if (c != 0)
            {
                return c > 0;
            }
        }

        var idle = candidate.IdleSince.CompareTo(incumbent.IdleSince);
        return idle != 0 ? idle < 0 : string.CompareOrdinal(candidate.AgentId, incumbent.AgentId) < 0;
    }
}
