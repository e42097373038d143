using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Matching;

/// <summary>Whether an agent may be offered a session now, and at which relaxation step.</summary>
public static class Eligibility
{
    /// <summary>
    /// Ready, serves the session's queue, free capacity on the session's channel with no exclusive session
    /// active, and every required skill at the current (relaxed) minimum level. The preferred-agent window
    /// and earlier rejections are separate rules (<see cref="Admits"/>).
    /// </summary>
    public static bool IsEligible(AgentSupply agent, SessionDemand session, QueuePolicy policy, DateTimeOffset now, out int relaxationStep)
    {
        relaxationStep = SkillRelaxation.StepAt(policy.Relaxation, (now - session.Arrival).TotalSeconds);
        if (!agent.Queues.Contains(session.QueueId) || !agent.CanTake(session.Channel))
        {
            return false;
        }

        return MeetsSkills(agent, session, policy, relaxationStep);
    }

    public static bool IsEligible(AgentSupply agent, SessionDemand session, QueuePolicy policy, DateTimeOffset now) =>
        IsEligible(agent, session, policy, now, out _);

    public static bool MeetsSkills(AgentSupply agent, SessionDemand session, QueuePolicy policy, int relaxationStep)
    {
        // Hot path (one call per candidate agent): enumerate a concrete dictionary without boxing.
        if (session.RequiredSkills is Dictionary<string, int> skills)
        {
            foreach (var (skill, required) in skills)
            {
                if (!Meets(agent, skill, required, policy, relaxationStep))
                {
                    return false;
                }
            }

            return true;
        }

        foreach (var (skill, required) in session.RequiredSkills)
        {
            if (!Meets(agent, skill, required, policy, relaxationStep))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Meets(AgentSupply agent, string skill, int required, QueuePolicy policy, int relaxationStep)
    {
        var minimum = SkillRelaxation.MinimumLevel(required, policy.Relaxation, relaxationStep);
        return minimum <= 0 || agent.Skills.GetValueOrDefault(skill) >= minimum;
    }

    /// <summary>
    /// The preferred-agent window: until <see cref="SessionDemand.PreferredUntil"/> only the preferred agent
    /// may take the session (at arrival it gets the offer first if eligible, even with no window).
    /// </summary>
    public static bool WithinPreferredWindow(SessionDemand session, DateTimeOffset now) =>
        session.PreferredAgentId is not null && now < session.PreferredUntil;

    /// <summary>The preferred-agent and rejection rules on top of eligibility. <paramref name="anyoneElseEligible"/>
    /// says whether another agent than this one could take the session now: an agent that rejected the session
    /// is offered it again only when no one else is eligible.</summary>
    public static bool Admits(string agentId, SessionDemand session, DateTimeOffset now, Func<bool> anyoneElseEligible)
    {
        if (WithinPreferredWindow(session, now) && session.PreferredAgentId != agentId)
        {
            return false;
        }

        return !session.RejectedBy.Contains(agentId) || !anyoneElseEligible();
    }

    /// <summary>As <see cref="Admits(string, SessionDemand, DateTimeOffset, Func{bool})"/>, with the question about other
    /// agents asked of the session itself: a caller that checks many sessions passes one delegate for all of them
    /// instead of creating a closure per session.</summary>
    public static bool Admits(string agentId, SessionDemand session, DateTimeOffset now, Func<SessionDemand, bool> anyoneElseEligible)
    {
        if (WithinPreferredWindow(session, now) && session.PreferredAgentId != agentId)
        {
            return false;
        }

        return !session.RejectedBy.Contains(agentId) || !anyoneElseEligible(session);
    }
}
