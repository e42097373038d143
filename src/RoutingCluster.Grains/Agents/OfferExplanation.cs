using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Grains.Agents;

/// <summary>Builds the explanation a session keeps of why it went to its agent.</summary>
internal static class OfferExplanation
{
    public static Explanation For(
        AgentSupply agent, SessionDemand session, QueuePolicy policy, int step, int candidates, MatchKind kind, DateTimeOffset now) => new()
    {
        Decision = WireNames<MatchKind>.Of(kind),
        CandidateCount = candidates,
        Strategy = policy.AgentSelection,
        AgentId = agent.AgentId,
        AgentSkills = session.RequiredSkills.Keys.ToDictionary(k => k, k => agent.Skills.GetValueOrDefault(k)),
        AgentIdleSeconds = Math.Max(0, (now - agent.IdleSince).TotalSeconds),
        RelaxationStep = step >= 0 ? step : null,
        MinimumLevels = session.RequiredSkills.ToDictionary(kv => kv.Key, kv => Math.Max(0, SkillRelaxation.MinimumLevel(kv.Value, policy.Relaxation, step))),
        Score = session.ScoreAt(now),
        WaitedSeconds = (now - session.Arrival).TotalSeconds,
        HeadStart = session.HeadStart.ToString(),
        DecidedAt = now,
        PreferredAgent = session.PreferredAgentId == agent.AgentId,
        PreviouslyRejected = session.RejectedBy.Contains(agent.AgentId),
    };
}
