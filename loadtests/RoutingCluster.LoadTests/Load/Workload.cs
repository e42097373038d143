using System.Globalization;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>One session of the plan: when it is due (seconds from the start) and what the gateway sends.</summary>
/// <param name="Callback">The customer asks for a callback right after the session is created (<c>--callback-share</c>).</param>
internal sealed record PlannedSession(int Index, double AtSeconds, string IdempotencyKey, CreateSessionRequest Request, bool Elderly, bool Callback = false);

/// <summary>
/// What a run creates, from its options: queue ids, agent profiles (skills and capacity per the mix) and the
/// planned sessions (arrival times, channel, skill, customer age and segments), all from the seed, so two runs
/// with the same options send the same requests in the same order.
/// </summary>
internal sealed class Workload(LoadOptions options)
{
    public const int PrimarySkillLevel = 5;
    public const int CrossTrainedSkillLevel = 3;

    public IReadOnlyList<string> QueueIds { get; } =
        [.. Enumerable.Range(1, options.Queues).Select(k => $"lt-{options.RunId}-q{k}")];

    public QueueSettings QueueSettings(int queueNumber) => new()
    {
        Name = $"Load test {options.RunId} queue {queueNumber}",
        WrapUpSeconds = options.WrapUpSeconds,
        OfferTimeoutSeconds = options.OfferTimeoutSeconds,

        // Room for every session of the run, and no overflow while it lasts: a session waits until an agent frees.
        MaxWaiting = 1_000_000,
        MaxWaitSeconds = 86_400,
    };

    /// <summary>The agents: ids, and profiles with a primary skill in the proportions of the skill mix.</summary>
    public IReadOnlyList<(string Id, AgentProfile Profile)> Agents()
    {
        var primaries = PrimarySkills(options.Skills, options.Agents, options.CrossTrained);
        var allSkills = options.Skills.Values.ToList();
        var agents = new List<(string, AgentProfile)>(options.Agents);
        for (var i = 0; i < options.Agents; i++)
        {
            var skills = new Dictionary<string, int>(StringComparer.Ordinal);
            if (IsCrossTrained(i, options.CrossTrained))
            {
                foreach (var skill in allSkills)
                {
                    skills[skill] = CrossTrainedSkillLevel;
                }
            }

            skills[primaries[i]] = PrimarySkillLevel;
            agents.Add(($"lt-{options.RunId}-a{(i + 1).ToString("D4", CultureInfo.InvariantCulture)}", new AgentProfile
            {
                Name = $"Load test agent {i + 1}",
                Skills = skills,
                Queues = QueueIds,
                Capacity = options.Capacity,
            }));
        }

        return agents;
    }

    /// <summary>The planned sessions: Poisson arrivals over the run, each with its channel, skill and customer.</summary>
    public IReadOnlyList<PlannedSession> Sessions() => Sessions(options.Rate, options.DurationSeconds, options.Seed, string.Empty);

    /// <summary>
    /// The planned sessions of one stretch of a run (a step of the step mode): Poisson arrivals at
    /// <paramref name="rate"/> for <paramref name="durationSeconds"/>, drawn from <paramref name="seed"/>; ids and
    /// idempotency keys carry <paramref name="tag"/> after the run id, so the stretches of one run do not collide.
    /// </summary>
    public IReadOnlyList<PlannedSession> Sessions(double rate, int durationSeconds, int seed, string tag)
    {
        var offsets = ArrivalSchedule.Offsets(rate, durationSeconds, options.MaxSessions, seed);

        // A second stream for the mix, so changing the mix does not change the arrival times.
        var random = new Random(unchecked((seed * 7919) + 17));
        var plan = new List<PlannedSession>(offsets.Length);
        for (var i = 0; i < offsets.Length; i++)
        {
            var elderly = random.NextDouble() < options.ElderlyShare;
            var segments = options.DeclaredSegments.Where(s => random.NextDouble() < s.Value).Select(s => s.Key).ToList();
            var request = new CreateSessionRequest
            {
                QueueId = QueueIds[i % QueueIds.Count],
                Channel = options.Channels.Pick(random.NextDouble()),
                Customer = new Customer
                {
                    Id = $"c-{options.RunId}-{tag}{i}",
                    Age = elderly ? options.ElderlyAge : random.Next(18, 65),
                    Segments = segments.Count == 0 ? null : segments,
                },
                Skills = new Dictionary<string, int>(StringComparer.Ordinal) { [options.Skills.Pick(random.NextDouble())] = options.SkillLevel },
                Attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["source"] = "load-test" },
            };
            // Drawn last, and only when asked for, so runs without callbacks send what they always sent.
            var callback = options.CallbackShare > 0 && random.NextDouble() < options.CallbackShare;
            plan.Add(new PlannedSession(i, offsets[i], $"lt-{options.RunId}-{tag}{i}", request, elderly, callback));
        }

        return plan;
    }

    /// <summary>
    /// The primary skill of each agent: the skills of the mix in its proportions (largest remainder), in
    /// order. Throws when a skill would get no agent that can serve it (no primary and no cross-trained agent).
    /// </summary>
    public static string[] PrimarySkills(Mix<string> skills, int agents, double crossTrained)
    {
        ArgumentNullException.ThrowIfNull(skills);
        var exact = skills.Items.Select(i => i.Share * agents).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (var k in Enumerable.Range(0, exact.Length).OrderByDescending(k => exact[k] - counts[k]).ThenBy(k => k).Take(agents - counts.Sum()))
        {
            counts[k]++;
        }

        var anyCrossTrained = Enumerable.Range(0, agents).Any(i => IsCrossTrained(i, crossTrained));
        for (var k = 0; k < counts.Length; k++)
        {
            if (counts[k] == 0 && !anyCrossTrained)
            {
                throw new ArgumentException(
                    $"--agents {agents} gives no agent the skill '{skills.Items[k].Value}' (its share is too small): add agents, or raise --cross-trained.");
            }
        }

        return [.. Enumerable.Range(0, counts.Length).SelectMany(k => Enumerable.Repeat(skills.Items[k].Value, counts[k]))];
    }

    /// <summary>Spreads the cross-trained agents evenly over the list: agent i is one when the running count steps up.</summary>
    private static bool IsCrossTrained(int index, double share) =>
        Math.Floor((index + 1) * share) > Math.Floor(index * share);
}
