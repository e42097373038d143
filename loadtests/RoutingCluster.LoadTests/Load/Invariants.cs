using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>An offer as an agent's desktop saw it: server times (one clock: the host is on this machine) and
/// whether the agent's accept was answered ok.</summary>
internal sealed record OfferFact(string AgentId, DateTimeOffset OfferedAt, DateTimeOffset ExpiresAt, bool Accepted);

/// <summary>A session as one agent's view listed it when it was read: an offer holds it from when it was made until it
/// expires; a session held (connected, wrap-up) from its state's start on, for as long as the view was read.</summary>
internal sealed record HoldFact(string AgentId, DateTimeOffset From, DateTimeOffset? Until)
{
    public static HoldFact Of(AgentOfferView offer, string agentId) => new(agentId, offer.OfferedAt, offer.ExpiresAt);

    public static HoldFact Of(AgentSessionView held, string agentId) => new(agentId, held.Since, null);
}

/// <summary>What a session's history says about the contract's promises.</summary>
/// <param name="DoubleAssigned">Offered or held by a second agent while another still had it (or offered while
/// not queued).</param>
/// <param name="EndedTwice">A terminal session whose history has more or fewer than one terminal entry, or
/// an entry after it.</param>
/// <param name="Problem">What was wrong, for the report.</param>
internal sealed record HistoryFindings(bool DoubleAssigned, bool EndedTwice, string? Problem);

/// <summary>
/// The checks a run makes at the end, as plain functions of what the API answered and what the desktops saw
/// (so they can be tested without a host): the contract's "never offer one session to two agents at once",
/// "never exceed an agent's capacity" and "every session ends in exactly one terminal state, once".
/// </summary>
internal static class Invariants
{
    private static readonly int ChannelCount = Enum.GetValues<Channel>().Length;

    /// <summary>Walks a session's history: who held it at each step, and how often it ended.</summary>
    public static HistoryFindings CheckHistory(ClientSessionView session)
    {
        ArgumentNullException.ThrowIfNull(session);
        string? holder = null;
        SessionState? previous = null;
        var terminals = 0;
        var afterEnd = false;
        var problems = new List<string>();
        foreach (var entry in session.History)
        {
            afterEnd |= terminals > 0;
            switch (entry.State)
            {
                case SessionState.Offered:
                    if (previous != SessionState.Queued)
                    {
                        problems.Add($"offered to {entry.AgentId} while {Describe(previous, holder)}");
                    }

                    holder = entry.AgentId;
                    break;
                case SessionState.Connected or SessionState.WrapUp:
                    if (holder is null || entry.AgentId != holder)
                    {
                        problems.Add($"{entry.State} with {entry.AgentId} while {Describe(previous, holder)}");
                    }

                    holder = entry.AgentId;
                    break;
                case SessionState.Queued:
                    holder = null;
                    break;
                default:
                    terminals++;
                    holder = null;
                    break;
            }

            previous = entry.State;
        }

        var doubleAssigned = problems.Count > 0;
        string? endProblem = null;
        if (session.State.IsTerminal() && (terminals != 1 || afterEnd || previous != session.State))
        {
            endProblem = $"state {session.State}, {terminals} terminal entries in the history{(afterEnd ? ", entries after the end" : string.Empty)}";
        }
        else if (!session.State.IsTerminal() && terminals > 0)
        {
            endProblem = $"state {session.State} after a terminal entry in the history";
        }

        if (endProblem is not null)
        {
            problems.Add(endProblem);
        }

        return new HistoryFindings(doubleAssigned, endProblem is not null, problems.Count == 0 ? null : string.Join("; ", problems));
    }

    /// <summary>
    /// Offers of one session seen at the desktops, on the server's clock: an offer holds the session until it
    /// expires, or for good once accepted (the driver never rejects, abandons or transfers during a run). A later
    /// offer made while an earlier one still held the session is a double assignment. Answers what overlapped,
    /// or null.
    /// </summary>
    public static string? OverlappingOffers(IReadOnlyList<OfferFact> offers)
    {
        ArgumentNullException.ThrowIfNull(offers);
        var ordered = offers.OrderBy(o => o.OfferedAt).ToList();
        var accepted = ordered.Where(o => o.Accepted).Select(o => o.AgentId).Distinct(StringComparer.Ordinal).ToList();
        if (accepted.Count > 1)
        {
            return $"accepted by {string.Join(" and ", accepted)}";
        }

        for (var i = 1; i < ordered.Count; i++)
        {
            var earlier = ordered[i - 1];
            var heldUntil = earlier.Accepted ? DateTimeOffset.MaxValue : earlier.ExpiresAt;
            if (ordered[i].OfferedAt < heldUntil)
            {
                return $"offered to {ordered[i].AgentId} at {ordered[i].OfferedAt:O} while {earlier.AgentId} held it " +
                       (earlier.Accepted ? "(accepted)" : $"(offer valid until {earlier.ExpiresAt:O})");
            }
        }

        return null;
    }

    /// <summary>
    /// The agents' views, read one after another while the run may still be moving, as holds on the server's clock: a
    /// session listed by two agents is held by both at once only if their holds overlap in time. A view read before
    /// an offer expired and another read after the session was offered again both list it, but the first hold ends
    /// (at its expiry) before the second begins, so a re-offer is never mistaken for a double hold, whenever each view
    /// was read. (A rejected offer ends before its expiry; the driver never rejects during a run.) Answers what
    /// overlapped, or null.
    /// </summary>
    public static string? HeldAtOnce(IReadOnlyList<HoldFact> holds)
    {
        ArgumentNullException.ThrowIfNull(holds);
        for (var i = 0; i < holds.Count; i++)
        {
            for (var j = i + 1; j < holds.Count; j++)
            {
                var (a, b) = (holds[i], holds[j]);
                if (a.AgentId == b.AgentId)
                {
                    continue;
                }

                var from = a.From > b.From ? a.From : b.From;
                var until = (a.Until, b.Until) switch
                {
                    (null, null) => DateTimeOffset.MaxValue,
                    (null, { } u) => u,
                    ({ } u, null) => u,
                    ({ } u, { } v) => u < v ? u : v,
                };
                if (from < until)
                {
                    return $"held by {a.AgentId} ({Describe(a)}) and {b.AgentId} ({Describe(b)}) at once";
                }
            }
        }

        return null;

        static string Describe(HoldFact hold) => hold.Until is { } until ? $"offered {hold.From:O} until {until:O}" : $"held since {hold.From:O}";
    }

    /// <summary>
    /// An agent's view against its capacity: sessions held (connected, wrap-up) and offers pending count, per
    /// channel; a voice or video session excludes every other. Answers what was exceeded, or null. Every view pushed to
    /// a desktop is checked, so the counting allocates nothing; only a problem is put into words.
    /// </summary>
    public static string? CapacityProblem(AgentView agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        Span<int> held = stackalloc int[ChannelCount];
        var total = 0;
        var exclusive = false;
        foreach (var session in agent.Sessions)
        {
            Count(session.Channel, held, ref total, ref exclusive);
        }

        foreach (var offer in agent.Offers)
        {
            Count(offer.Channel, held, ref total, ref exclusive);
        }

        List<string>? problems = null;
        for (var c = 0; c < ChannelCount; c++)
        {
            var channel = (Channel)c;
            if (held[c] > agent.Capacity.GetValueOrDefault(channel))
            {
                (problems ??= []).Add($"{held[c]} {Mixes.WireName(channel)} with capacity {agent.Capacity.GetValueOrDefault(channel)}");
            }
        }

        if (total > 1 && exclusive)
        {
            (problems ??= []).Add($"{total} sessions and offers although one is voice or video (exclusive)");
        }

        return problems is null ? null : $"agent {agent.Id}: {string.Join("; ", problems)}";

        static void Count(Channel channel, Span<int> held, ref int total, ref bool exclusive)
        {
            held[(int)channel]++;
            total++;
            exclusive |= channel is Channel.Voice or Channel.Video;
        }
    }

    /// <summary>Whether the agent's view lists the session, as an offer or as a session held.</summary>
    public static bool Holds(AgentView agent, string sessionId)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return agent.Offers.Any(o => o.SessionId == sessionId) || agent.Sessions.Any(s => s.SessionId == sessionId);
    }

    private static string Describe(SessionState? state, string? holder) =>
        state is null ? "not yet queued" : holder is null ? state.ToString()!.ToLowerInvariant() : $"{state.ToString()!.ToLowerInvariant()} with {holder}";
}
