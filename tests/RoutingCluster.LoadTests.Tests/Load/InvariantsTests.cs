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

    [Fact]
    public void CapacityProblem_AnIdleAgentAndAViewOfManySessions_AreCheckedLikeAnyOther()
    {
        var capacity = new Dictionary<Channel, int> { [Channel.Chat] = 3, [Channel.Email] = 10 };
        Channel[] nineEmails = [.. Enumerable.Repeat(Channel.Email, 9)];

        Assert.Null(Invariants.CapacityProblem(Agent(capacity, sessions: [], offers: [])));
        Assert.Null(Invariants.CapacityProblem(Agent(capacity, sessions: nineEmails, offers: [Channel.Email])));
        Assert.Contains("11 email with capacity 10", Invariants.CapacityProblem(Agent(capacity, sessions: nineEmails, offers: [Channel.Email, Channel.Email])), StringComparison.Ordinal);
        Assert.Contains("4 chat with capacity 3", Invariants.CapacityProblem(Agent(capacity, sessions: [Channel.Chat, Channel.Email], offers: [Channel.Chat, Channel.Chat, Channel.Chat])), StringComparison.Ordinal);
    }

    private static ClientSessionView Session(SessionState state, params (SessionState State, string? AgentId)[] history) => new()
    {
        Id = "s-1",
        State = state,
        QueueId = "q",
        Channel = Channel.Voice,
        History = [.. history.Select((h, i) => new SessionHistoryEntry(h.State, T0.AddSeconds(i), "q", h.AgentId, null))],
    };

    [Fact]
    public void HeldAtOnce_ViewsReadBeforeAnExpiryAndAfterTheReOffer_AreNotADoubleHold()
    {
        // Agent a-1's view was read while its offer (made at T0) still ran; the offer expired at T0+15, the session went
        // back to its queue and was offered to a-2, whose view was read after that: both views list the session.
        var first = HoldFact.Of(new AgentOfferView("s-1", T0.AddSeconds(15), Channel.Voice, "q", T0), "a-1");
        var reOffered = HoldFact.Of(new AgentOfferView("s-1", T0.AddSeconds(31), Channel.Voice, "q", T0.AddSeconds(16)), "a-2");
        var accepted = HoldFact.Of(new AgentSessionView("s-1", Channel.Voice, HeldState.Connected, "q", T0.AddSeconds(17), null), "a-2");

        Assert.Null(Invariants.HeldAtOnce([first, reOffered]));
        Assert.Null(Invariants.HeldAtOnce([accepted, first]));
    }

    [Fact]
    public void HeldAtOnce_AnOfferMadeWhileAnotherAgentStillHeldTheSession_IsADoubleHold()
    {
        var first = HoldFact.Of(new AgentOfferView("s-1", T0.AddSeconds(15), Channel.Voice, "q", T0), "a-1");
        var second = HoldFact.Of(new AgentOfferView("s-1", T0.AddSeconds(20), Channel.Voice, "q", T0.AddSeconds(5)), "a-2");
        var connected = HoldFact.Of(new AgentSessionView("s-1", Channel.Voice, HeldState.Connected, "q", T0.AddSeconds(2), null), "a-1");
        var alsoConnected = HoldFact.Of(new AgentSessionView("s-1", Channel.Voice, HeldState.WrapUp, "q", T0.AddSeconds(40), null), "a-3");

        Assert.Contains("held by a-1", Invariants.HeldAtOnce([first, second]), StringComparison.Ordinal);
        Assert.NotNull(Invariants.HeldAtOnce([second, connected]));
        Assert.NotNull(Invariants.HeldAtOnce([connected, alsoConnected]));
        Assert.Null(Invariants.HeldAtOnce([first, first with { From = T0.AddSeconds(1) }])); // one agent listed twice is not two holders
    }

    private static AgentView Agent(Dictionary<Channel, int> capacity, Channel[] sessions, Channel[] offers) => new()
    {
        Id = "a-1",
        State = AgentState.Ready,
        Capacity = capacity,
        Sessions = [.. sessions.Select((c, i) => new AgentSessionView($"s-{i}", c, HeldState.Connected, "q", T0, null))],
        Offers = [.. offers.Select((c, i) => new AgentOfferView($"s-o{i}", T0.AddSeconds(15), c, "q", T0))],
    };
}
