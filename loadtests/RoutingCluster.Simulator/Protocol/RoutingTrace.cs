using System.Globalization;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Simulator.Protocol;

/// <summary>A queue of a trace, with the policy it is configured with.</summary>
public sealed record TraceQueue(string Id, QueuePolicy Policy);

/// <summary>An agent of a trace, with the profile it is given before the trace starts (it starts logged out).</summary>
public sealed record TraceAgent(string Id, IReadOnlyDictionary<string, int> Skills, IReadOnlyList<string> Queues, IReadOnlyDictionary<Channel, int> Capacity);

/// <summary>Something the outside world does at an instant (seconds after the trace's start).</summary>
public abstract record TraceStep(double At);

/// <summary>A customer reaches a queue. <see cref="TalkSeconds"/>: how long an agent who accepts talks with them.</summary>
public sealed record SessionArrives(
    double At,
    string SessionId,
    string QueueId,
    Channel Channel,
    int? CustomerAge,
    IReadOnlyList<Segment> Segments,
    IReadOnlyDictionary<string, int> Skills,
    string? PreferredAgentId,
    double PreferredAgentWaitSeconds,
    double TalkSeconds) : TraceStep(At);

/// <summary>The customer hangs up (a no-op unless the session is still queued or offered).</summary>
public sealed record CustomerHangsUp(double At, string SessionId) : TraceStep(At);

/// <summary>An agent chooses a state (logging out is refused while it holds work).</summary>
public sealed record AgentChooses(double At, string AgentId, AgentState State, string? Reason) : TraceStep(At);

/// <summary>What an agent does with an offer.</summary>
public enum OfferResponse
{
    Accept,
    Reject,

    /// <summary>Nothing: the offer expires.</summary>
    Miss,
}

/// <summary>An agent's answer to an offer, and how many seconds after the offer it gives it.</summary>
public readonly record struct OfferReaction(OfferResponse Response, double AfterSeconds);

/// <summary>
/// A generated routing trace: queues with their policies, agents with their profiles, and what customers and agents
/// do over time. How an agent answers an offer is a function of the offer itself (session, agent, and how many times
/// the session was offered before), so any two runs that make the same offers see the same answers.
/// </summary>
public sealed record RoutingTrace(
    int Seed,
    IReadOnlyList<TraceQueue> Queues,
    IReadOnlyList<TraceAgent> Agents,
    IReadOnlyList<TraceStep> Steps,
    double EndsAt)
{
    /// <summary>The instant the trace counts its seconds from.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset Instant(double seconds) => Epoch + TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));

    /// <summary>How the agent answers the <paramref name="offerNumber"/>-th offer (from 1) of the session: mostly accept,
    /// sometimes reject, sometimes let it expire; answers come 0.5 to 8 seconds after the offer.</summary>
    public OfferReaction React(string sessionId, string agentId, int offerNumber)
    {
        var h = Hash(sessionId, agentId, offerNumber);
        var pick = (h % 1000) / 1000.0;
        var after = 0.5 + ((h / 1000 % 7500) / 1000.0);
        return pick switch
        {
            < 0.84 => new OfferReaction(OfferResponse.Accept, after),
            < 0.93 => new OfferReaction(OfferResponse.Reject, after),
            _ => new OfferReaction(OfferResponse.Miss, 0),
        };
    }

    /// <summary>A stable hash (FNV-1a, 64 bits) of the offer and the seed: the same in every process.</summary>
    private ulong Hash(string sessionId, string agentId, int offerNumber)
    {
        var h = 14695981039346656037UL ^ (ulong)(uint)Seed;
        foreach (var c in sessionId + "|" + agentId + "|" + offerNumber.ToString(CultureInfo.InvariantCulture))
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>
    /// Generates a trace: four queues (skills with relaxation steps, longest-idle and most-skilled, strict and finite
    /// head starts, a max wait that overflows to a general queue, wrap-up and none), agents over voice, chat and email,
    /// signing in and out and taking breaks, and customers arriving (some elderly, disabled, VIP, some asking for a
    /// preferred agent) and some hanging up before they are served.
    /// </summary>
    /// <remarks>
    /// Each agent serves one queue and holds one session at a time. With more, the grains' offers would depend on the
    /// timing of messages, not only on the trace: an offer attempt runs beside the turns of the queue that started it
    /// (a queue never waits on an agent), so an agent with room left after an offer, or one that a queue still thinks
    /// free after another queue reserved it, can be matched by its queue and pull a session itself at the same time,
    /// and which of the two reaches the queue first decides who gets what. Within these bounds every decision depends
    /// on the order of events alone.
    /// </remarks>
    public static RoutingTrace Generate(int seed, int sessions = 10_000, int agents = 60, double arrivalsPerSecond = 0.75)
    {
        var rng = new Random(seed);
        var queues = new List<TraceQueue>
        {
            new("cards", QueuePolicy.Default with
            {
                AgentSelection = AgentSelection.LongestIdle,
                HeadStarts = new Dictionary<Segment, HeadStart> { [Segment.Elderly] = HeadStart.Strict, [Segment.Disabled] = HeadStart.OfSeconds(60) },
                Relaxation = [new RelaxationStep(30, 1), new RelaxationStep(75, 2)],
                MaxWaitSeconds = 300,
                OverflowQueueId = "general",
                WrapUpSeconds = 3,
            }),
            new("loans", QueuePolicy.Default with
            {
                AgentSelection = AgentSelection.MostSkilled,
                HeadStarts = new Dictionary<Segment, HeadStart> { [Segment.Elderly] = HeadStart.OfSeconds(45), [Segment.Vip] = HeadStart.OfSeconds(20) },
                Relaxation = [new RelaxationStep(20, 1)],
                MaxWaitSeconds = 600,
                WrapUpSeconds = 0,
            }),
            new("wealth", QueuePolicy.Default with
            {
                AgentSelection = AgentSelection.MostSkilled,
                HeadStarts = new Dictionary<Segment, HeadStart> { [Segment.Vip] = HeadStart.Strict, [Segment.Elderly] = HeadStart.OfSeconds(90) },
                MaxWaitSeconds = 400,
                OverflowQueueId = "general",
                WrapUpSeconds = 5,
            }),
            new("general", QueuePolicy.Default with
            {
                AgentSelection = AgentSelection.LongestIdle,
                MaxWaitSeconds = 900,
                WrapUpSeconds = 2,
            }),
        };

        // Each agent serves one queue over one channel, one session at a time (see the remarks on the class).
        var channels = new[] { Channel.Voice, Channel.Chat, Channel.Email };
        var agentList = new List<TraceAgent>();
        for (var i = 0; i < agents; i++)
        {
            var queue = queues[i % queues.Count].Id;
            var channel = channels[i / queues.Count % channels.Length];
            var skills = new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["cards"] = rng.Next(1, 6),
                ["loans"] = rng.Next(1, 6),
                ["wealth"] = rng.Next(1, 6),
            };
            agentList.Add(new TraceAgent("a" + i.ToString("D3", CultureInfo.InvariantCulture), skills, [queue], new Dictionary<Channel, int> { [channel] = 1 }));
        }

        var steps = new List<TraceStep>();
        var t = 0.0;
        for (var i = 0; i < sessions; i++)
        {
            t += Exponential(rng, 1 / arrivalsPerSecond);
            var queue = queues[rng.NextDouble() switch { < 0.4 => 0, < 0.7 => 1, < 0.85 => 2, _ => 3 }];
            var channel = channels[rng.NextDouble() switch { < 0.4 => 0, < 0.8 => 1, _ => 2 }];
            var age = rng.NextDouble() < 0.7 ? (int?)rng.Next(18, 95) : null;
            var segments = new List<Segment>();
            if (rng.NextDouble() < 0.05)
            {
                segments.Add(Segment.Disabled);
            }

            if (rng.NextDouble() < 0.08)
            {
                segments.Add(Segment.Vip);
            }

            var skills = queue.Id == "general" ? new Dictionary<string, int>() : new Dictionary<string, int> { [queue.Id] = rng.Next(2, 5) };
            var preferred = rng.NextDouble() < 0.05 ? agentList[rng.Next(agentList.Count)].Id : null;
            var id = "s" + seed.ToString(CultureInfo.InvariantCulture) + "-" + i.ToString("D5", CultureInfo.InvariantCulture);
            var at = Math.Round(t, 3);
            steps.Add(new SessionArrives(at, id, queue.Id, channel, age, segments, skills, preferred, preferred is null ? 0 : 20,
                Math.Round(5 + Exponential(rng, channel == Channel.Voice ? 20 : 30), 3)));
            if (rng.NextDouble() < 0.3)
            {
                steps.Add(new CustomerHangsUp(Math.Round(at + 1 + Exponential(rng, 60), 3), id));
            }
        }

        var ends = t;
        foreach (var agent in agentList)
        {
            var at = Math.Round(rng.NextDouble() * 20, 3);
            steps.Add(new AgentChooses(at, agent.Id, AgentState.Ready, null));
            while (at < ends)
            {
                at = Math.Round(at + 5 + Exponential(rng, 60), 3);
                var roll = rng.NextDouble();
                if (roll < 0.1)
                {
                    steps.Add(new AgentChooses(at, agent.Id, AgentState.NotReady, "break"));
                    at = Math.Round(at + 10 + Exponential(rng, 40), 3);
                }
                else if (roll < 0.13)
                {
                    steps.Add(new AgentChooses(at, agent.Id, AgentState.LoggedOut, null));
                    at = Math.Round(at + 30 + Exponential(rng, 90), 3);
                }

                // Ready again (also after a missed offer, which sets the agent not ready).
                steps.Add(new AgentChooses(at, agent.Id, AgentState.Ready, null));
            }
        }

        // Stable order: by instant, then as generated.
        var ordered = steps.Select((s, i) => (s, i)).OrderBy(x => x.s.At).ThenBy(x => x.i).Select(x => x.s).ToList();
        return new RoutingTrace(seed, queues, agentList, ordered, Math.Round(ends + 60, 3));
    }

    private static double Exponential(Random rng, double mean) => -Math.Log(1 - rng.NextDouble()) * mean;
}
