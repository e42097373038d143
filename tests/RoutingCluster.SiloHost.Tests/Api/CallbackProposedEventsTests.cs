using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// A gateway following its sessions over real HTTP (<c>GET /v1/sessions/{id}/events</c>, server-sent events, on
/// Kestrel) is told on each <c>position</c> event whether the queue proposes a callback: <c>callbackProposed</c> is
/// true while the session's estimated wait is over the queue's <c>callbackOffer.whenEstimatedWaitOverSeconds</c>, and
/// not true when it is within the bound, when the session is a callback already, or when the queue proposes none.
/// </summary>
/// <remarks>
/// The estimate is the session's place × the queue's smoothed time between offers; here two offers 60 s apart make
/// it 60 s per place. Queue "proposing" has the bound 100 s, then 30 s; queue "plain" has no callbackOffer. Each has
/// two agents who hold the offers they got (nobody answers; the offers last 600 s), so the customers behind stay in
/// line. Places are told every 15 s. Times are seconds after 08:00:00Z.
/// <code>
///  t    event
///  0    w1 arrives in each queue, offered at once to its first agent
///  60   w2 arrives in each queue, offered to its second agent: 60 s between offers
///  61   f1, f2 arrive in "proposing", g1, g2 in "plain"; the gateway follows all four
///  76   places told: f1 1st (60 s), f2 2nd (120 s: over 100, proposed); g1, g2 likewise, never proposed
///  80   f2 asks to be called back (at once: it keeps its place)
///  91   places told: f2 still 2nd (120 s) but a callback already: not proposed; f1 not proposed
///  96   the queue's bound becomes 30 s
///  106  places told: f1 1st (60 s: over 30, proposed)
/// </code>
/// </remarks>
public sealed class CallbackProposedEventsTests(CallbackProposedMorning host) : IClassFixture<CallbackProposedMorning>
{
    [Fact]
    public void PositionEvents_OverTheBound_ProposeACallback_WithinTheBound_DoNot()
    {
        var (f1, f2) = (host.FirstTold["f1"], host.FirstTold["f2"]);

        Assert.Equal(f1.Str("at"), f2.Str("at")); // told together
        Assert.Equal((1, 60.0), (Place(f1), Estimate(f1)));
        Assert.False(Proposed(f1), f1.ToJsonString());
        Assert.Equal((2, 120.0), (Place(f2), Estimate(f2)));
        Assert.True(f2["callbackProposed"]!.GetValue<bool>(), f2.ToJsonString());
    }

    [Fact]
    public void PositionEvents_OfACallback_DoNotProposeOne_EvenOverTheBound()
    {
        var f2 = host.AfterCallback["f2"];

        Assert.Equal((2, 120.0), (Place(f2), Estimate(f2)));
        Assert.False(Proposed(f2), f2.ToJsonString());
        Assert.False(Proposed(host.AfterCallback["f1"]), host.AfterCallback["f1"].ToJsonString());
    }

    [Fact]
    public void PositionEvents_FollowTheQueuesBound_WhenItChanges()
    {
        var f1 = host.AfterNewBound["f1"];

        Assert.Equal((1, 60.0), (Place(f1), Estimate(f1)));
        Assert.True(f1["callbackProposed"]!.GetValue<bool>(), f1.ToJsonString());
    }

    [Fact]
    public void PositionEvents_OfAQueueWithoutCallbackOffer_NeverProposeOne()
    {
        var (g1, g2) = (host.FirstTold["g1"], host.FirstTold["g2"]);

        Assert.Equal((1, 60.0), (Place(g1), Estimate(g1)));
        Assert.Equal((2, 120.0), (Place(g2), Estimate(g2)));
        Assert.False(Proposed(g1), g1.ToJsonString());
        Assert.False(Proposed(g2), g2.ToJsonString());
    }

    [Fact]
    public void EveryPositionEvent_NamesItsSessionAndQueue_AndIsTheOnlyKindCarryingCallbackProposed()
    {
        foreach (var (name, events) in host.Streams)
        {
            Assert.Equal("state", events[0].Type);
            Assert.All(events.Where(e => e.Type == "position"), e =>
            {
                Assert.Equal(host.Ids[name], e.Data.Str("sessionId"));
                Assert.Equal(name.StartsWith('f') ? "proposing" : "plain", e.Data.Str("queueId"));
                Assert.Equal("queued", e.Data.Str("state"));
            });
            Assert.All(events.Where(e => e.Type != "position"), e => Assert.Null(e.Data["callbackProposed"]));
        }
    }

    private static int Place(JsonNode e) => e["position"]!.GetValue<int>();

    private static double Estimate(JsonNode e) => e["estimatedWaitSeconds"]!.GetValue<double>();

    /// <summary>Whether the event proposes a callback: false when the field is false or absent.</summary>
    private static bool Proposed(JsonNode e) => e["callbackProposed"]?.GetValue<bool>() ?? false;
}

/// <summary>The script of <see cref="CallbackProposedEventsTests"/>, run once on its own host on Kestrel in virtual
/// time: what the gateway's four event streams carried.</summary>
public sealed class CallbackProposedMorning() : SiloHostFactory(new SiloHostOptions { VirtualTime = true, Kestrel = true }), IAsyncLifetime
{
    /// <summary>How long an event may take to reach the gateway once routing time has moved (real time).</summary>
    private static readonly TimeSpan EventWithin = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<HttpClient> _clients = [];
    private readonly Dictionary<string, EventStream> _streams = new(StringComparer.Ordinal);

    /// <summary>Session ids by the script's names (f1, f2, g1, g2).</summary>
    public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);

    /// <summary>The first position event of each followed session (told at 76).</summary>
    public Dictionary<string, JsonNode> FirstTold { get; } = new(StringComparer.Ordinal);

    /// <summary>The first position event of f1 and f2 after f2 asked to be called back (told at 91).</summary>
    public Dictionary<string, JsonNode> AfterCallback { get; } = new(StringComparer.Ordinal);

    /// <summary>The first position event of f1 after the bound became 30 s (told at 106).</summary>
    public Dictionary<string, JsonNode> AfterNewBound { get; } = new(StringComparer.Ordinal);

    /// <summary>Every event each stream carried until the end of the script, by session name.</summary>
    public Dictionary<string, IReadOnlyList<(string Type, JsonNode Data)>> Streams { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        var api = new HostApi(Client());
        await api.PutQueue("proposing", Proposing(100));
        await api.PutQueue("plain", """{ "offerTimeoutSeconds": 600 }""");
        foreach (var (agent, queue) in new[] { ("pa1", "proposing"), ("pa2", "proposing"), ("ga1", "plain"), ("ga2", "plain") })
        {
            await api.PutAgent(agent, queue);
            await api.SetState(agent, "ready");
        }

        // Each offer is made (and timed) before routing time moves on: the estimates are exact.
        await At(0);
        foreach (var queue in new[] { "proposing", "plain" })
        {
            await api.CreateSession(queue);
        }

        await Settle();
        await At(60);
        foreach (var queue in new[] { "proposing", "plain" })
        {
            await api.CreateSession(queue);
        }

        await Settle();
        await At(61);
        foreach (var (name, queue) in new[] { ("f1", "proposing"), ("f2", "proposing"), ("g1", "plain"), ("g2", "plain") })
        {
            Ids[name] = await api.CreateSession(queue);
            _streams[name] = await EventStream.OpenAsync(Client(), Ids[name], _stop.Token);
        }

        await At(80);
        foreach (var name in Ids.Keys)
        {
            FirstTold[name] = await _streams[name].PositionAfterAsync(Instant(61), EventWithin);
        }

        (await api.Post($"/v1/sessions/{Ids["f2"]}/callback", """{ "at": null }""")).Ok();
        await At(95);
        foreach (var name in new[] { "f1", "f2" })
        {
            AfterCallback[name] = await _streams[name].PositionAfterAsync(Instant(80), EventWithin);
        }

        await At(96);
        await api.PutQueue("proposing", Proposing(30));
        await At(110);
        AfterNewBound["f1"] = await _streams["f1"].PositionAfterAsync(Instant(96), EventWithin);

        foreach (var (name, stream) in _streams)
        {
            Streams[name] = stream.Events;
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var stream in _streams.Values)
        {
            await stream.DisposeAsync();
        }

        foreach (var client in _clients)
        {
            client.Dispose();
        }

        _stop.Dispose();
    }

    private static string Proposing(int overSeconds) =>
        $$"""{ "offerTimeoutSeconds": 600, "callbackOffer": { "whenEstimatedWaitOverSeconds": {{overSeconds}} } }""";

    private static DateTimeOffset Instant(double secondsAfterStart) => Start.AddSeconds(secondsAfterStart);

    /// <summary>A client of the Kestrel endpoint whose requests carry a token with every role (as the gateway
    /// <see cref="TestTokens.Gateway"/>, the owner of the sessions it creates).</summary>
    private HttpClient Client()
    {
        var client = TestTokens.Client(BaseAddress, Timeout.InfiniteTimeSpan);
        _clients.Add(client);
        return client;
    }

    /// <summary>One gateway's server-sent event stream of a session, read in the background as it arrives.</summary>
    private sealed class EventStream : IAsyncDisposable
    {
        private readonly List<(string Type, JsonNode Data)> _events = [];
        private readonly HttpResponseMessage _response;
        private readonly Task _reading;
        private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private EventStream(HttpResponseMessage response, Stream body, CancellationToken stop)
        {
            _response = response;
            _reading = Task.Run(() => ReadAsync(body, stop), stop);
        }

        public IReadOnlyList<(string Type, JsonNode Data)> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        /// <summary>Follows the session; returns once its first event (the session as it is) has come, so the follower
        /// is registered and the queue will tell it its place.</summary>
        public static async Task<EventStream> OpenAsync(HttpClient client, string sessionId, CancellationToken stop)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"v1/sessions/{sessionId}/events");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            var stream = new EventStream(response, await response.Content.ReadAsStreamAsync(stop), stop);
            await stream.WaitForAsync(events => events.Count > 0, TimeSpan.FromSeconds(30), $"the first event of {sessionId}");
            return stream;
        }

        /// <summary>The first position event stamped after <paramref name="after"/> (routing time).</summary>
        public async Task<JsonNode> PositionAfterAsync(DateTimeOffset after, TimeSpan within)
        {
            JsonNode? Find(IReadOnlyList<(string Type, JsonNode Data)> events) =>
                events.Where(e => e.Type == "position" && DateTimeOffset.Parse(e.Data.Str("at"), CultureInfo.InvariantCulture) > after)
                    .Select(e => e.Data).FirstOrDefault();

            await WaitForAsync(events => Find(events) is not null, within, $"a position event after {after:HH:mm:ss}");
            return Find(Events)!;
        }

        public async ValueTask DisposeAsync()
        {
            _response.Dispose();
            try
            {
                await _reading;
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
            {
                // The stream was closed under the reader.
            }
        }

        private async Task WaitForAsync(Func<IReadOnlyList<(string Type, JsonNode Data)>, bool> done, TimeSpan within, string what)
        {
            using var deadline = new CancellationTokenSource(within);
            while (true)
            {
                Task arrived;
                lock (_events)
                {
                    if (done(_events))
                    {
                        return;
                    }

                    arrived = _arrived.Task;
                }

                if (_reading.IsCompleted)
                {
                    await _reading; // a failed read shows its exception
                    Assert.Fail($"The event stream ended before {what}: {string.Join(", ", Events.Select(e => e.Type))}");
                }

                try
                {
                    await Task.WhenAny(arrived, _reading).WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"No {what} within {within}; the stream carried: {string.Join(" | ", Events.Select(e => $"{e.Type} {e.Data.ToJsonString()}"))}");
                }
            }
        }

        private async Task ReadAsync(Stream body, CancellationToken stop)
        {
            var parser = SseParser.Create(body, (type, data) => JsonNode.Parse(data)!);
            await foreach (var item in parser.EnumerateAsync(stop))
            {
                lock (_events)
                {
                    _events.Add((item.EventType, item.Data));
                    _arrived.TrySetResult();
                    _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
    }
}
