namespace RoutingCluster.Simulator.Protocol;

/// <summary>An offer as an agent saw it: when (milliseconds after the trace's start), which session, which agent.</summary>
public readonly record struct OfferSeen(long AtMs, string SessionId, string AgentId)
{
    public override string ToString() => $"{AtMs / 1000.0:F3}s {SessionId} -> {AgentId}";
}

/// <summary>An agent answers an offer (accept or reject) as the trace says.</summary>
public sealed record AnswerOffer(string SessionId, string AgentId, OfferResponse Response);

/// <summary>An agent ends the talk with a customer it accepted.</summary>
public sealed record EndTalk(string SessionId, string AgentId);

/// <summary>
/// What happens next in a run of a <see cref="RoutingTrace"/>: its steps, and the agents' answers to the offers seen so
/// far, in one order that does not depend on the order in which offers of the same instant were seen. Both a run
/// through the grains and the protocol model use it, so both act in the same order when their offers agree.
/// </summary>
public sealed class TraceAgenda
{
    private readonly RoutingTrace _trace;
    private readonly PriorityQueue<object, (long AtMs, int Class, string Key, int Index)> _items = new();
    private readonly Dictionary<string, int> _offersPerSession = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _talkSeconds = new(StringComparer.Ordinal);

    public TraceAgenda(RoutingTrace trace)
    {
        _trace = trace;
        for (var i = 0; i < trace.Steps.Count; i++)
        {
            var step = trace.Steps[i];
            _items.Enqueue(step, (Ms(step.At), 0, string.Empty, i));
            if (step is SessionArrives arrives)
            {
                _talkSeconds[arrives.SessionId] = arrives.TalkSeconds;
            }
        }
    }

    public List<OfferSeen> Offers { get; } = [];

    public static long Ms(double seconds) => (long)Math.Round(seconds * 1000);

    /// <summary>When the next item is due (milliseconds), or null when the agenda is empty.</summary>
    public long? NextAtMs => _items.TryPeek(out _, out var key) ? key.AtMs : null;

    public object Take() => _items.Dequeue();

    /// <summary>An agent was offered a session: the offer is logged, and the agent's answer is put on the agenda.</summary>
    public void Offered(long atMs, string sessionId, string agentId)
    {
        Offers.Add(new OfferSeen(atMs, sessionId, agentId));
        var number = _offersPerSession[sessionId] = _offersPerSession.GetValueOrDefault(sessionId) + 1;
        var reaction = _trace.React(sessionId, agentId, number);
        if (reaction.Response != OfferResponse.Miss)
        {
            _items.Enqueue(new AnswerOffer(sessionId, agentId, reaction.Response), (atMs + Ms(reaction.AfterSeconds), 1, sessionId, 0));
        }
    }

    /// <summary>The agent's accept succeeded: it ends the talk after the session's talk time.</summary>
    public void Accepted(long atMs, string sessionId, string agentId) =>
        _items.Enqueue(new EndTalk(sessionId, agentId), (atMs + Ms(_talkSeconds[sessionId]), 2, sessionId, 0));

    /// <summary>The offers in a canonical order: by instant, then session, then agent (offers of one instant may be
    /// made in any order by concurrent grains).</summary>
    public static List<OfferSeen> Canonical(IEnumerable<OfferSeen> offers) =>
        [.. offers.OrderBy(o => o.AtMs).ThenBy(o => o.SessionId, StringComparer.Ordinal).ThenBy(o => o.AgentId, StringComparer.Ordinal)];

    /// <summary>Null when both runs made the same offers; otherwise the first difference, with the offers around it.</summary>
    public static string? FirstDifference(IReadOnlyList<OfferSeen> expected, IReadOnlyList<OfferSeen> actual, string expectedName, string actualName)
    {
        var a = Canonical(expected);
        var b = Canonical(actual);
        for (var i = 0; i < Math.Max(a.Count, b.Count); i++)
        {
            var x = i < a.Count ? a[i] : (OfferSeen?)null;
            var y = i < b.Count ? b[i] : (OfferSeen?)null;
            if (x != y)
            {
                string Around(List<OfferSeen> list) => string.Join(Environment.NewLine, list.Skip(Math.Max(0, i - 3)).Take(7).Select(o => "    " + o));
                return $"offer #{i + 1} differs: {expectedName} {x?.ToString() ?? "(none)"}, {actualName} {y?.ToString() ?? "(none)"}"
                    + $"{Environment.NewLine}  {expectedName} around it:{Environment.NewLine}{Around(a)}{Environment.NewLine}  {actualName} around it:{Environment.NewLine}{Around(b)}";
            }
        }

        return null;
    }
}
