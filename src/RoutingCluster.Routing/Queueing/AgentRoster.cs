using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Queueing;

/// <summary>
/// A queue's view of its agents: the latest snapshot each published, with the agents that have free capacity kept in
/// longest-idle order, and grouped by profile so that choosing an agent for a session does not look at every free agent.
/// </summary>
/// <remarks>
/// Whether an agent may take a session, and its skill score for it, depend only on the queues it serves, its skills
/// (with their levels) and the channels it can take one more session on now (which its state, capacities and active
/// sessions decide): its <see cref="Profile"/>. Free agents with the same profile are interchangeable but for how long
/// they have been idle and their ids, so each profile's group keeps its agents in idle order, and
/// <see cref="PickFor"/> decides eligibility and the skill score once per group and looks only at the first agents of the
/// eligible groups (passing over agents with an offer in flight, or that rejected the session, one by one). There are
/// few profiles in practice (a queue has a handful of skill sets and levels), however many agents share them; with as
/// many profiles as agents, the walk is over the groups, so it is still linear in the number of distinct profiles.
/// </remarks>
public sealed class AgentRoster
{
    private static readonly IComparer<AgentSupply> IdleOrder = Comparer<AgentSupply>.Create((a, b) =>
    {
        var c = a.IdleSince.UtcTicks.CompareTo(b.IdleSince.UtcTicks);
        return c != 0 ? c : string.CompareOrdinal(a.AgentId, b.AgentId);
    });

    private static readonly Channel[] AllChannels = Enum.GetValues<Channel>();

    /// <summary>Under longest-idle, eligible agents are counted (for the explanation) up to this many.</summary>
    public const int CandidateCountLimit = 256;

    /// <summary>Every agent's latest snapshot, and the group it is free in (null: no free capacity).</summary>
    private readonly Dictionary<string, Known> _agents = new(StringComparer.Ordinal);
    private readonly SortedSet<AgentSupply> _free = new(IdleOrder);
    private readonly Dictionary<Profile, Group> _groups = [];

    /// <summary>Counts the decisions, so that a group can tell whether the current one found it eligible
    /// (<see cref="Group.EligibleIn"/>) without a set of its own per decision.</summary>
    private long _decision;

    public int Count => _agents.Count;

    public int FreeCount => _free.Count;

    public IEnumerable<AgentSupply> All => _agents.Values.Select(k => k.Agent);

    /// <summary>Agents with free capacity, longest idle first.</summary>
    public IEnumerable<AgentSupply> Free => _free;

    /// <summary>How many groups of interchangeable free agents there are (distinct profiles among the free agents).</summary>
    public int ProfileCount => _groups.Count;

    public bool TryGet(string agentId, out AgentSupply supply)
    {
        var found = _agents.TryGetValue(agentId, out var known);
        supply = known.Agent;
        return found;
    }

    /// <summary>Records a snapshot unless an equal or newer one is already known. Returns whether it was applied.</summary>
    public bool Update(AgentSupply supply)
    {
        Group? left = null;
        if (_agents.TryGetValue(supply.AgentId, out var known))
        {
            if (known.Agent.Version >= supply.Version)
            {
                return false;
            }

            if (known.Group is { } group)
            {
                _free.Remove(known.Agent);
                group.Remove(known.Agent);
                left = group;
            }
        }

        Group? joined = null;
        if (supply.HasFreeCapacity)
        {
            // Most snapshots change only the idle time or the sessions held: the agent usually stays in its group.
            var profile = new Profile(supply);
            if (left is not null && left.Profile.Equals(profile))
            {
                joined = left;
            }
            else if (!_groups.TryGetValue(profile, out joined))
            {
                joined = new Group(profile);
                _groups.Add(profile, joined);
            }

            joined.Add(supply);
            _free.Add(supply);
        }

        if (left is not null && left.Count == 0 && !ReferenceEquals(left, joined))
        {
            _groups.Remove(left.Profile);
        }

        _agents[supply.AgentId] = new Known(supply, joined);
        return true;
    }

    public void Remove(string agentId)
    {
        if (_agents.Remove(agentId, out var known) && known.Group is { } group)
        {
            _free.Remove(known.Agent);
            group.Remove(known.Agent);
            if (group.Count == 0)
            {
                _groups.Remove(group.Profile);
            }
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
            && Eligibility.IsEligible(preferred.Agent, session, policy, now, out var preferredStep))
        {
            return new AgentChoice(preferred.Agent, preferredStep, 1);
        }

        if (Eligibility.WithinPreferredWindow(session, now))
        {
            return null;
        }

        // Each eligible group offers its first agent that has no offer in flight and did not reject the session (usually
        // its very first); of those, the best by the strategy wins. A group whose first agent cannot beat the best so far
        // has no agent that can: its agents have its score and are idle for no longer than its first one.
        var decision = ++_decision;
        var mostSkilled = policy.AgentSelection == AgentSelection.MostSkilled;
        var rejectedBy = session.RejectedBy;
        AgentSupply? best = null;
        Group? bestGroup = null;
        long eligible = 0;
        foreach (var group in _groups.Values)
        {
            if (!Eligibility.IsEligible(group.First, session, policy, now, out var step))
            {
                continue;
            }

            group.EligibleIn = decision;
            group.Step = step;
            group.Score = mostSkilled ? AgentSelector.SkillScore(group.First, session) : 0;
            eligible += group.Count;
            if (bestGroup is not null && !Beats(group, group.First, bestGroup, best!))
            {
                continue;
            }

            var first = group.First;
            if (busy.Contains(first.AgentId) || rejectedBy.Contains(first.AgentId))
            {
                first = null;
                foreach (var agent in group.Agents)
                {
                    if (bestGroup is not null && !Beats(group, agent, bestGroup, best!))
                    {
                        break;
                    }

                    if (!busy.Contains(agent.AgentId) && !rejectedBy.Contains(agent.AgentId))
                    {
                        first = agent;
                        break;
                    }
                }
            }

            if (first is not null)
            {
                best = first;
                bestGroup = group;
            }
        }

        if (best is not null)
        {
            return new AgentChoice(best, bestGroup!.Step, CountCandidates(eligible, !mostSkilled, busy, rejectedBy, decision));
        }

        // Nobody else: an agent that rejected the session gets it again, the best of them by the strategy. (They are
        // few, so they are looked up one by one.)
        AgentSupply? fallback = null;
        var fallbackStep = -1;
        foreach (var agentId in rejectedBy)
        {
            if (!busy.Contains(agentId)
                && _agents.TryGetValue(agentId, out var known)
                && known.Group?.EligibleIn == decision
                && (fallback is null || AgentSelector.Better(known.Agent, fallback, session, policy.AgentSelection)))
            {
                fallback = known.Agent;
                fallbackStep = known.Group.Step;
            }
        }

        return fallback is null ? null : new AgentChoice(fallback, fallbackStep, 1);
    }

    /// <summary>Whether an agent other than <paramref name="agentId"/> with free capacity is eligible for the session now.</summary>
    public bool AnyoneElseEligible(SessionDemand session, string agentId, QueuePolicy policy, DateTimeOffset now)
    {
        foreach (var group in _groups.Values)
        {
            if (!Eligibility.IsEligible(group.First, session, policy, now))
            {
                continue;
            }

            // More agents than the asking one and all that rejected: one of them is someone else.
            if (group.Count > 1 + session.RejectedBy.Count)
            {
                return true;
            }

            foreach (var agent in group.Agents)
            {
                if (agent.AgentId != agentId && !session.RejectedBy.Contains(agent.AgentId))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="candidate"/> (of <paramref name="group"/>) is better than <paramref name="incumbent"/>
    /// (of <paramref name="incumbentGroup"/>): <see cref="AgentSelector.Better"/> with the scores of the groups.</summary>
    private static bool Beats(Group group, AgentSupply candidate, Group incumbentGroup, AgentSupply incumbent)
    {
        var c = group.Score.CompareTo(incumbentGroup.Score);
        return c != 0 ? c > 0 : IdleOrder.Compare(candidate, incumbent) < 0;
    }

    /// <summary>The eligible agents (<paramref name="eligible"/>: in the groups found eligible in this decision) less those
    /// with an offer in flight or that rejected the session; under longest-idle only up to
    /// <see cref="CandidateCountLimit"/>, which the total usually shows without looking at the agents passed over.</summary>
    private int CountCandidates(long eligible, bool bounded, IReadOnlySet<string> busy, IReadOnlySet<string> rejectedBy, long decision)
    {
        if (bounded && eligible - busy.Count - rejectedBy.Count >= CandidateCountLimit)
        {
            return CandidateCountLimit;
        }

        var passedOver = 0;
        if (busy.Count > 0)
        {
            foreach (var agentId in busy)
            {
                if (InEligibleGroup(agentId))
                {
                    passedOver++;
                }
            }
        }

        if (rejectedBy.Count > 0)
        {
            foreach (var agentId in rejectedBy)
            {
                if (!busy.Contains(agentId) && InEligibleGroup(agentId))
                {
                    passedOver++;
                }
            }
        }

        var candidates = eligible - passedOver;
        return (int)(bounded ? Math.Min(candidates, CandidateCountLimit) : candidates);

        bool InEligibleGroup(string agentId) => _agents.TryGetValue(agentId, out var known) && known.Group?.EligibleIn == decision;
    }

    private readonly record struct Known(AgentSupply Agent, Group? Group);

    /// <summary>Free agents with one profile, longest idle first. <see cref="First"/> (the longest idle) stands for all of
    /// them when eligibility and the skill score are decided. The last three properties are scratch space of the
    /// decision in progress.</summary>
    private sealed class Group(Profile profile)
    {
        public Profile Profile { get; } = profile;

        public SortedSet<AgentSupply> Agents { get; } = new(IdleOrder);

        public AgentSupply First { get; private set; } = null!;

        public int Count => Agents.Count;

        /// <summary>The number of the last decision that found this group eligible.</summary>
        public long EligibleIn { get; set; }

        /// <summary>The relaxation step at which the group was found eligible, and its skill score under most-skilled.</summary>
        public int Step { get; set; }

        public int Score { get; set; }

        public void Add(AgentSupply agent)
        {
            Agents.Add(agent);
            if (Agents.Count == 1 || IdleOrder.Compare(agent, First) < 0)
            {
                First = agent;
            }
        }

        public void Remove(AgentSupply agent)
        {
            Agents.Remove(agent);
            if (ReferenceEquals(agent, First) && Agents.Count > 0)
            {
                First = Agents.Min!;
            }
        }
    }

    /// <summary>
    /// What eligibility and the skill score read of a free agent: the queues it serves (in the order given), its skills
    /// with their levels, and the channels it can take one more session on now (a bit per channel, from
    /// <see cref="AgentSupply.CanTake"/>: its state, capacities, the sessions it holds and whether one is exclusive). The
    /// hash is computed once, when the snapshot arrives; snapshots bring new collections every time, so the comparison is
    /// by content.
    /// </summary>
    private readonly struct Profile : IEquatable<Profile>
    {
        private readonly IReadOnlyList<string> _queues;
        private readonly IReadOnlyDictionary<string, int> _skills;
        private readonly int _channels;
        private readonly int _hash;

        public Profile(AgentSupply agent)
        {
            _queues = agent.Queues;
            _skills = agent.Skills;
            foreach (var channel in AllChannels)
            {
                if (agent.CanTake(channel))
                {
                    _channels |= 1 << (int)channel;
                }
            }

            var queues = 0;
            for (var i = 0; i < _queues.Count; i++)
            {
                queues = HashCode.Combine(queues, StringComparer.Ordinal.GetHashCode(_queues[i]));
            }

            // Order-independent over the skills: two dictionaries with the same entries hash alike.
            var skills = 0;
            if (_skills is Dictionary<string, int> concrete)
            {
                foreach (var (skill, level) in concrete)
                {
                    skills += HashCode.Combine(StringComparer.Ordinal.GetHashCode(skill), level);
                }
            }
            else
            {
                foreach (var (skill, level) in _skills)
                {
                    skills += HashCode.Combine(StringComparer.Ordinal.GetHashCode(skill), level);
                }
            }

            _hash = HashCode.Combine(_channels, queues, _queues.Count, skills, _skills.Count);
        }

        public bool Equals(Profile other) =>
            _hash == other._hash && _channels == other._channels && SameQueues(_queues, other._queues) && SameSkills(_skills, other._skills);

        public override bool Equals(object? obj) => obj is Profile other && Equals(other);

        public override int GetHashCode() => _hash;

        private static bool SameQueues(IReadOnlyList<string> x, IReadOnlyList<string> y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x.Count != y.Count)
            {
                return false;
            }

            for (var i = 0; i < x.Count; i++)
            {
                if (!string.Equals(x[i], y[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool SameSkills(IReadOnlyDictionary<string, int> x, IReadOnlyDictionary<string, int> y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x.Count != y.Count || !SameLookup(x, y))
            {
                return false;
            }

            // A concrete dictionary is enumerated without boxing its enumerator.
            if (x is Dictionary<string, int> concrete)
            {
                foreach (var (skill, level) in concrete)
                {
                    if (!y.TryGetValue(skill, out var other) || other != level)
                    {
                        return false;
                    }
                }

                return true;
            }

            foreach (var (skill, level) in x)
            {
                if (!y.TryGetValue(skill, out var other) || other != level)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Whether both look skills up alike (a required skill is found in both or in neither): the same kind of
        /// dictionary, and for dictionaries of strings an ordinal comparer in both, or the same one.</summary>
        private static bool SameLookup(IReadOnlyDictionary<string, int> x, IReadOnlyDictionary<string, int> y)
        {
            if (x.GetType() != y.GetType())
            {
                return false;
            }

            if (x is not Dictionary<string, int> dx || y is not Dictionary<string, int> dy)
            {
                return true;
            }

            return ReferenceEquals(dx.Comparer, dy.Comparer) || (IsOrdinal(dx.Comparer) && IsOrdinal(dy.Comparer));

            static bool IsOrdinal(IEqualityComparer<string> comparer) =>
                ReferenceEquals(comparer, StringComparer.Ordinal) || ReferenceEquals(comparer, EqualityComparer<string>.Default);
        }
    }
}

/// <summary>The agent chosen for a session, the relaxation step it matched at, and how many were eligible.</summary>
public readonly record struct AgentChoice(AgentSupply Agent, int RelaxationStep, int CandidateCount);
