using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

public sealed class InvariantsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void CheckHistory_OfAWholeLifecycle_FindsNothing()
    {
        var session = Session(SessionState.Completed,
            (SessionState.Queued, null), (SessionState.Offered, "a-1"), (SessionState.Connected, "a-1"), (SessionState.WrapUp, "a-1"), (SessionState.Completed, "a-1"));

        Assert.Equal(new HistoryFindings(false, false, null), Invariants.CheckHistory(session));
    }

    [Fact]
    public void CheckHistory_OfAMissedOfferThenAnotherAgent_FindsNothing()
    {
        var session = Session(SessionState.Completed,
            (SessionState.Queued, null), (SessionState.Offered, "a-1"), (SessionState.Queued, null), (SessionState.Offered, "a-2"),
            (SessionState.Connected, "a-2"), (SessionState.WrapUp, "a-2"), (SessionState.Completed, "a-2"));

        Assert.Equal(new HistoryFindings(false, false, null), Invariants.CheckHistory(session));
    }

    [Fact]
    public void CheckHistory_OfferedToASecondAgentWhileTheFirstHasIt_IsADoubleAssignment()
    {
        var session = Session(SessionState.Connected,
            (SessionState.Queued, null), (SessionState.Offered, "a-1"), (SessionState.Offered, "a-2"), (SessionState.Connected, "a-2"));

        var findings = Invariants.CheckHistory(session);

        Assert.True(findings.DoubleAssigned);
        Assert.False(findings.EndedTwice);
        Assert.Contains("offered to a-2 while offered with a-1", findings.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckHistory_ConnectedToAnAgentItWasNotOfferedTo_IsADoubleAssignment()
    {
        var session = Session(SessionState.Connected, (SessionState.Queued, null), (SessionState.Offered, "a-1"), (SessionState.Connected, "a-2"));

        Assert.True(Invariants.CheckHistory(session).DoubleAssigned);
    }

    [Fact]
    public void CheckHistory_TwoTerminalEntries_OrAnEntryAfterTheEnd_IsEndedTwice()
    {
        var twice = Session(SessionState.Completed,
            (SessionState.Queued, null), (SessionState.Abandoned, null), (SessionState.Completed, "a-1"));
        var after = Session(SessionState.Abandoned, (SessionState.Queued, null), (SessionState.Abandoned, null), (SessionState.Queued, null), (SessionState.Abandoned, null));
        var reopened = Session(SessionState.Queued, (SessionState.Queued, null), (SessionState.Abandoned, null), (SessionState.Queued, null));
        var never = Session(SessionState.Completed, (SessionState.Queued, null));

        Assert.True(Invariants.CheckHistory(twice).EndedTwice);
        Assert.True(Invariants.CheckHistory(after).EndedTwice);
        Assert.True(Invariants.CheckHistory(reopened).EndedTwice);
        Assert.True(Invariants.CheckHistory(never).EndedTwice);
        Assert.False(Invariants.CheckHistory(Session(SessionState.Refused, (SessionState.Refused, null))).EndedTwice);
        Assert.False(Invariants.CheckHistory(Session(SessionState.Queued, (SessionState.Queued, null))).EndedTwice);
    }

    [Fact]
    public void OverlappingOffers_AnOfferAfterTheEarlierOneExpired_IsFine_ButBeforeItIsNot()
    {
        var expired = new OfferFact("a-1", T0, T0.AddSeconds(15), Accepted: false);

        Assert.Null(Invariants.OverlappingOffers([expired, new OfferFact("a-2", T0.AddSeconds(15.1), T0.AddSeconds(30), true)]));
        Assert.Contains("while a-1 held it", Invariants.OverlappingOffers([new OfferFact("a-2", T0.AddSeconds(3), T0.AddSeconds(18), true), expired]), StringComparison.Ordinal);
        Assert.Contains("(accepted)", Invariants.OverlappingOffers([new OfferFact("a-1", T0, T0.AddSeconds(15), true), new OfferFact("a-2", T0.AddSeconds(20), T0.AddSeconds(35), false)]), StringComparison.Ordinal);
        Assert.Equal("accepted by a-1 and a-2", Invariants.OverlappingOffers([new OfferFact("a-1", T0, T0.AddSeconds(15), true), new OfferFact("a-2", T0.AddSeconds(20), T0.AddSeconds(35), true)]));
        Assert.Null(Invariants.OverlappingOffers([]));
    }

    [Fact]
    public void CapacityProblem_CountsSessionsAndOffersPerChannel_AndVoiceExcludesEverythingElse()
    {
        var capacity = new Dictionary<Channel, int> { [Channel.Voice] = 1, [Channel.Chat] = 3 };

        Assert.Null(Invariants.CapacityProblem(Agent(capacity, sessions: [Channel.Chat, Channel.Chat], offers: [Channel.Chat])));
        Assert.Null(Invariants.CapacityProblem(Agent(capacity, sessions: [], offers: [Channel.Voice])));
        Assert.Contains("4 chat with capacity 3", Invariants.CapacityProblem(Agent(capacity, sessions: [Channel.Chat, Channel.Chat, Channel.Chat], offers: [Channel.Chat])), StringComparison.Ordinal);
        Assert.Contains("2 voice with capacity 1", Invariants.CapacityProblem(Agent(capacity, sessions: [Channel.Voice], offers: [Channel.Voice])), StringComparison.Ordinal);
        Assert.Contains("exclusive", Invariants.CapacityProblem(Agent(capacity, sessions: [Channel.Voice], offers: [Channel.Chat])), StringComparison.Ordinal);
        Assert.Contains("1 email with capacity 0", Invariants.CapacityProblem(Agent(capacity, sessions: [Channel.Email], offers: [])), StringComparison.Ordinal);
    }

    private static ClientSessionView Session(SessionState state, params (SessionState State, string? AgentId)[] history) => new()
    {
        Id = "s-1",
        State = state,
        QueueId = "q",
        Channel = Channel.Voice,
        History = [.. history.Select((h, i) => new SessionHistoryEntry(h.State, T0.AddSeconds(i), "q", h.AgentId, null))],
    };

    private static AgentView Agent(Dictionary<Channel, int> capacity, Channel[] sessions, Channel[] offers) => new()
    {
        Id = "a-1",
        State = AgentState.Ready,
        Capacity = capacity,
        Sessions = [.. sessions.Select((c, i) => new AgentSessionView($"s-{i}", c, HeldState.Connected, "q", T0, null))],
        Offers = [.. offers.Select((c, i) => new AgentOfferView($"s-o{i}", T0.AddSeconds(15), c, "q", T0))],
    };
}
