using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary><c>POST /v1/sessions/{id}/callback</c> on the shared host: what it answers, and what it refuses.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class CallbackTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Callback_AtOnce_Answers200_WithTheSessionStillQueued_AndItsCallback()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);

        var session = (await _api.Post($"/v1/sessions/{id}/callback", """{ "at": null }""")).Ok();

        Assert.Equal("queued", session.Str("state"));
        var callback = session["callback"]!;
        Assert.EndsWith("Z", callback.Str("requestedAt"), StringComparison.Ordinal);
        Assert.Null(callback["at"]);
        Assert.Equal(session.Str("queuedAt"), (await _api.Get($"/v1/sessions/{id}")).Ok().Str("queuedAt")); // its place is kept
    }

    [Fact]
    public async Task Callback_Scheduled_Answers200_WithItsTime()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);
        var at = DateTimeOffset.UtcNow.AddHours(2);

        var session = (await _api.Post($"/v1/sessions/{id}/callback", $$"""{ "at": "{{Iso(at)}}" }""")).Ok();

        Assert.Equal("queued", session.Str("state"));
        Assert.Equal(Iso(at), session["callback"]!.Str("at"));
        Assert.Equal(Iso(at), (await _api.Get($"/v1/sessions/{id}")).Ok()["callback"]!.Str("at"));
    }

    [Fact]
    public async Task Session_WithoutCallback_ShowsCallbackNull()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);

        var session = (await _api.Get($"/v1/sessions/{id}")).Ok();

        Assert.True(session.AsObject().ContainsKey("callback"));
        Assert.Null(session["callback"]);
    }

    [Theory]
    [InlineData(-60)]
    [InlineData(0)]
    [InlineData(7 * 24 * 3600 + 60)]
    public async Task Callback_AtInThePastOrMoreThanSevenDaysAhead_Answers400NamingAt_AndChangesNothing(double secondsAhead)
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);
        var at = DateTimeOffset.UtcNow.AddSeconds(secondsAhead);

        (await _api.Post($"/v1/sessions/{id}/callback", $$"""{ "at": "{{Iso(at)}}" }""")).ValidationProblem("at");

        Assert.Null((await _api.Get($"/v1/sessions/{id}")).Ok()["callback"]);
    }

    [Theory]
    [InlineData("""{ "at": "tomorrow" }""", "at")]
    [InlineData("""{ "at": 12 }""", "at")]
    [InlineData("""{ "at": null, "when": "now" }""", "when")]
    public async Task Callback_WithABadBody_Answers400NamingTheField(string body, string field)
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);

        (await _api.Post($"/v1/sessions/{id}/callback", body)).ValidationProblem(field);

        Assert.Null((await _api.Get($"/v1/sessions/{id}")).Ok()["callback"]);
    }

    [Fact]
    public async Task Callback_OfAnUnknownSession_Answers404()
    {
        var reply = await _api.Post($"/v1/sessions/{HostApi.NewId("s")}/callback", """{ "at": null }""");

        reply.Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Callback_OfAnOfferedSession_Answers409_AndTheOfferIsInbound()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        var id = await _api.CreateSession(queue);
        var offered = await _api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
        Assert.Equal("inbound", offered.Arr("offers")[0]!.Str("kind"));

        (await _api.Post($"/v1/sessions/{id}/callback", """{ "at": null }""")).Problem(HttpStatusCode.Conflict);

        Assert.Null((await _api.Get($"/v1/sessions/{id}")).Ok()["callback"]);
    }

    [Fact]
    public async Task Callback_Twice_Answers409_AndKeepsTheFirst()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);
        (await _api.Post($"/v1/sessions/{id}/callback", """{ "at": null }""")).Ok();

        (await _api.Post($"/v1/sessions/{id}/callback", $$"""{ "at": "{{Iso(DateTimeOffset.UtcNow.AddHours(1))}}" }""")).Problem(HttpStatusCode.Conflict);

        Assert.Null((await _api.Get($"/v1/sessions/{id}")).Ok()["callback"]!["at"]);
    }

    [Fact]
    public async Task Callback_TheSameRequestAgain_Answers200_WithTheSameCallback()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);
        var body = $$"""{ "at": "{{Iso(DateTimeOffset.UtcNow.AddHours(1))}}" }""";
        var first = (await _api.Post($"/v1/sessions/{id}/callback", body)).Ok();

        var again = (await _api.Post($"/v1/sessions/{id}/callback", body)).Ok();

        Assert.True(JsonNode.DeepEquals(first["callback"], again["callback"]), again.ToJsonString());
    }

    [Fact]
    public void Events_CarryTheOffersKind_AndCallbackProposedOnPositionEventsOnly()
    {
        var at = DateTimeOffset.UtcNow;
        var offered = SessionEventResponse.From(new SessionUpdate
        {
            SessionId = "s-1", Type = SessionEventType.Offered, State = SessionState.Offered, QueueId = "q", AgentId = "a", At = at, Kind = OfferKind.Callback,
        });
        var position = SessionEventResponse.From(new SessionUpdate
        {
            SessionId = "s-1", Type = SessionEventType.Position, State = SessionState.Queued, QueueId = "q", At = at, Position = 3, CallbackProposed = true,
        });
        var notProposed = SessionEventResponse.From(new SessionUpdate
        {
            SessionId = "s-1", Type = SessionEventType.Position, State = SessionState.Queued, QueueId = "q", At = at, Position = 1,
        });

        Assert.Equal((OfferKind.Callback, (bool?)null), (offered.Kind, offered.CallbackProposed));
        Assert.Equal(((OfferKind?)null, (bool?)true), (position.Kind, position.CallbackProposed));
        Assert.False(notProposed.CallbackProposed);
    }

    [Fact]
    public async Task Abandon_CancelsAScheduledCallback()
    {
        var queue = await _api.PutQueue(HostApi.NewId("cb"));
        var id = await _api.CreateSession(queue);
        (await _api.Post($"/v1/sessions/{id}/callback", $$"""{ "at": "{{Iso(DateTimeOffset.UtcNow.AddSeconds(2))}}" }""")).Ok();

        Assert.Equal("abandoned", (await _api.Post($"/v1/sessions/{id}/abandon")).Ok().Str("state"));

        // Its time passes with an agent ready: nothing is offered.
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Empty((await _api.Get($"/v1/agents/{agent}")).Ok().Arr("offers"));
        Assert.Equal("abandoned", (await _api.Get($"/v1/sessions/{id}")).Ok().Str("state"));
    }

    [Fact]
    public async Task QueueConfiguration_CarriesTheCallbackOffer_AndNullWhenAbsent()
    {
        var offering = await _api.PutQueue(HostApi.NewId("cb"), """{ "callbackOffer": { "whenEstimatedWaitOverSeconds": 120 } }""");
        var plain = await _api.PutQueue(HostApi.NewId("cb"));

        Assert.Equal(120, (await _api.Get($"/v1/queues/{offering}")).Ok()["callbackOffer"]!["whenEstimatedWaitOverSeconds"]!.GetValue<double>());
        Assert.Null((await _api.Get($"/v1/queues/{plain}")).Ok()["callbackOffer"]);
    }

    [Theory]
    [InlineData("""{ "callbackOffer": { "whenEstimatedWaitOverSeconds": -1 } }""", "callbackOffer.whenEstimatedWaitOverSeconds")]
    [InlineData("""{ "callbackOffer": { } }""", "callbackOffer.whenEstimatedWaitOverSeconds")]
    [InlineData("""{ "callbackOffer": { "whenEstimatedWaitOverSeconds": 60, "every": 1 } }""", "callbackOffer.every")]
    public async Task QueueConfiguration_WithABadCallbackOffer_Answers400NamingTheField(string body, string field)
    {
        var queue = HostApi.NewId("cb");

        (await _api.Put($"/v1/queues/{queue}", body)).ValidationProblem(field);

        (await _api.Get($"/v1/queues/{queue}")).Problem(HttpStatusCode.NotFound);
    }

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>Callbacks over a scripted morning in virtual time: an immediate one keeps its place and outlives the max
/// wait, a scheduled one is not offered before its time, both are offered as callbacks, and the KPIs count them.</summary>
/// <remarks>
/// Queue "cb" (service level 20 s, max wait 60 s). Times are seconds after 08:00:00Z.
/// <code>
///  t    event
///  0    s1 (voice, age 70: elderly) and s2 (voice) arrive; a1 is not ready
///  5    s1 asks for a callback at once
///  6    s2 asks for a callback at 300
///  100  s1 still queued (past the max wait); a1 ready: s1 offered as a callback
///  105  a1 accepts s1            speed 105 s (from arrival; not within 20)
///  110  a1 ends s1; wrap-up 10 s
///  299  s2 still queued, a1 idle and offered nothing
///  300  s2 offered to a1 as a callback
///  310  a1 accepts s2            speed 10 s (from its time; within 20)
/// </code>
/// Queue: offered 2, answered 2, within 1, callbacks 2, callbacks answered 2, ASA (105 + 10) / 2 = 57.5 s.
/// Elderly (s1): offered 1, answered 1, callbacks 1, callbacks answered 1, ASA 105 s.
/// The same figures come out of the tests' own recomputation (<see cref="KpiRecompute"/>) from the sessions' histories
/// and the callbacks the gateway was granted.
/// </remarks>
public sealed class CallbackMorningTests(CallbackMorning host) : IClassFixture<CallbackMorning>
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public void ImmediateCallback_OutlivesTheMaxWait_AndIsOfferedAsACallback()
    {
        Assert.Equal("queued", host.S1AtHundred!.Str("state"));
        Assert.Equal("callback", host.FirstOffer!.Str("kind"));
        Assert.Equal(host.S1, host.FirstOffer!.Str("sessionId"));
    }

    [Fact]
    public void ScheduledCallback_IsNotOfferedBeforeItsTime_ThenIsOfferedAsACallback()
    {
        Assert.Equal("queued", host.S2BeforeItsTime!.Str("state"));
        Assert.Empty(host.AgentBeforeItsTime!.Arr("offers"));
        Assert.Equal("callback", host.SecondOffer!.Str("kind"));
        Assert.Equal(host.S2, host.SecondOffer!.Str("sessionId"));
    }

    [Fact]
    public async Task Stats_CountCallbacks_AndAScheduledOnesSpeedOfAnswerFromItsTime()
    {
        var stats = (await _api.Get("/v1/queues/cb/stats")).Ok();

        Assert.Equal((2, 2, 1), (Num(stats, "offered"), Num(stats, "answered"), Num(stats, "answeredWithinThreshold")));
        Assert.Equal((2, 2), (Num(stats, "callbacks"), Num(stats, "callbacksAnswered")));
        Assert.Equal(57.5, Num(stats, "averageSpeedOfAnswerSeconds"), 6);

        var elderly = stats["bySegment"]!["elderly"]!;
        Assert.Equal((1, 1), (Num(elderly, "offered"), Num(elderly, "answered")));
        Assert.Equal((1, 1), (Num(elderly, "callbacks"), Num(elderly, "callbacksAnswered")));
        Assert.Equal(105, Num(elderly, "averageSpeedOfAnswerSeconds"), 6);

        var cluster = (await _api.Get("/v1/stats")).Ok()["total"]!;
        Assert.Equal((2, 2), (Num(cluster, "callbacks"), Num(cluster, "callbacksAnswered")));
    }

    [Fact]
    public async Task Stats_EqualTheRecomputation_FromTheHistories_AndTheCallbacksTheGatewayWasGranted()
    {
        var sessions = new List<StoredSession>();
        foreach (var (id, callback) in new[] { (host.S1, host.S1Callback!), (host.S2, host.S2Callback!) })
        {
            var view = (await _api.Get($"/v1/sessions/{id}")).Ok();
            sessions.Add(new StoredSession(
                id,
                view.Str("state"),
                view.Str("channel"),
                [.. view.Arr("segments").Select(s => s!.GetValue<string>())],
                [.. view.Arr("history").Select(h => new HistoryEntry(h!.Str("state"), Time(h!["at"])!.Value, h!.Str("queueId"), h!.StrOrNull("agentId"), h!.StrOrNull("note")))])
            {
                Callbacks = [new ObservedCallback(Time(callback["requestedAt"])!.Value, Time(callback["at"]))],
            });
        }

        var recomputed = KpiRecompute.From(sessions, new Dictionary<string, double>(StringComparer.Ordinal) { ["cb"] = 20 });
        var stats = (await _api.Get("/v1/queues/cb/stats")).Ok();

        Assert.Equal((2, 2), (recomputed.Callbacks, recomputed.CallbacksAnswered));
        AssertSame(Figures(recomputed, Breakdown.Total, string.Empty), stats);
        AssertSame(Figures(recomputed, Breakdown.Segment, "elderly"), stats["bySegment"]!["elderly"]!);
    }

    private static KpiFigures Figures(KpiRecompute recomputed, Breakdown breakdown, string value) =>
        KpiFigures.From(KpiCounters.Sum(recomputed.QueueCells.Where(c => c.Key.Owner == "cb" && c.Key.Breakdown == breakdown && c.Key.Value == value).Select(c => c.Value)), withAgentTime: false);

    private static void AssertSame(KpiFigures recomputed, JsonNode stats)
    {
        Assert.Equal(
            (recomputed.Offered, recomputed.Answered, recomputed.AnsweredWithinThreshold, recomputed.Callbacks, recomputed.CallbacksAnswered),
            ((long)Num(stats, "offered"), (long)Num(stats, "answered"), (long)Num(stats, "answeredWithinThreshold"), (long)Num(stats, "callbacks"), (long)Num(stats, "callbacksAnswered")));
        Assert.Equal(recomputed.AverageSpeedOfAnswerSeconds!.Value, Num(stats, "averageSpeedOfAnswerSeconds"), 3);
    }

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is null ? null : DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture);

    private static double Num(JsonNode node, string field) => node[field]!.GetValue<double>();
}

/// <summary>The script of <see cref="CallbackMorningTests"/>, run once on its own host.</summary>
public sealed class CallbackMorning() : SiloHostFactory(new SiloHostOptions { VirtualTime = true }), IAsyncLifetime
{
    public string S1 { get; private set; } = string.Empty;

    public string S2 { get; private set; } = string.Empty;

    public JsonNode? S1AtHundred { get; private set; }

    public JsonNode? FirstOffer { get; private set; }

    public JsonNode? S2BeforeItsTime { get; private set; }

    public JsonNode? AgentBeforeItsTime { get; private set; }

    public JsonNode? SecondOffer { get; private set; }

    /// <summary>The <c>callback</c> of the answers to s1's and s2's callback requests.</summary>
    public JsonNode? S1Callback { get; private set; }

    public JsonNode? S2Callback { get; private set; }

    public async Task InitializeAsync()
    {
        var api = new HostApi(CreateClient());
        await api.PutQueue("cb", """{ "serviceLevelSeconds": 20, "wrapUpSeconds": 10, "maxWaitSeconds": 60 }""");
        await api.PutAgent("a1", "cb");
        await At(0);
        S1 = await api.CreateSession("cb", age: 70);
        S2 = await api.CreateSession("cb");
        await At(5);
        S1Callback = (await api.Post($"/v1/sessions/{S1}/callback", """{ "at": null }""")).Ok()["callback"];
        await At(6);
        S2Callback = (await api.Post($"/v1/sessions/{S2}/callback", """{ "at": "2026-11-23T08:05:00Z" }""")).Ok()["callback"];
        await At(100);
        S1AtHundred = (await api.Get($"/v1/sessions/{S1}")).Ok();
        FirstOffer = (await api.SetState("a1", "ready")).Arr("offers").Single();
        await At(105);
        (await api.Post($"/v1/agents/a1/offers/{S1}/accept")).Ok();
        await At(110);
        (await api.Post($"/v1/agents/a1/sessions/{S1}/end")).Ok();
        await At(299);
        S2BeforeItsTime = (await api.Get($"/v1/sessions/{S2}")).Ok();
        AgentBeforeItsTime = (await api.Get("/v1/agents/a1")).Ok();
        await At(300);
        SecondOffer = (await api.Get("/v1/agents/a1")).Ok().Arr("offers").Single();
        await At(310);
        (await api.Post($"/v1/agents/a1/offers/{S2}/accept")).Ok();
        await At(320);
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}
