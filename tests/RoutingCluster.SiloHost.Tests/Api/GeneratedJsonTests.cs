using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Hubs;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// The hot payloads are read and written with the metadata generated at build time (<see cref="WireJsonContext"/>), and
/// the bytes on the wire are the ones reflection gives: for each payload, with the host's own options (request bodies,
/// HTTP responses and session events, the agent hub's payloads) against the same options served by reflection only, both ways.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class GeneratedJsonTests(SiloHostFactory host)
{
    /// <summary>A gateway's request, as the contract benchmark sends it.</summary>
    private const string CreateRequestJson = """
        {"queueId":"cards","channel":"voice","customer":{"id":"c-00412345","age":72,"segments":["elderly"]},"skills":{"cards":2,"mandarin":1},"preferredAgentId":null,"preferredAgentWaitSeconds":0,"attributes":{"ivrPath":"1-3-2","accountType":"gold","callerLine":"+8613800000000"}}
        """;

    private static readonly DateTime At = new(2026, 11, 23, 8, 0, 0, 123, DateTimeKind.Utc);

    private JsonSerializerOptions Http => host.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

    private JsonSerializerOptions Hub => host.Services.GetRequiredService<IOptions<JsonHubProtocolOptions>>().Value.PayloadSerializerOptions;

    /// <summary>The context comes before reflection in every chain; resolvers before it (the API description's own
    /// context) serve none of the hot payloads.</summary>
    [Fact]
    public void HostOptions_ServeTheHotPayloadsFromTheGeneratedMetadata_AndKeepReflectionForOtherTypes()
    {
        Type[] hot = [typeof(CreateSessionRequest), typeof(SessionResponse), typeof(AgentResponse), typeof(AgentView), typeof(OfferNotice), typeof(HubResult)];
        foreach (var (name, options) in new[] { ("http", Http), ("hub", Hub), ("requests", WireJson.Requests) })
        {
            var chain = options.TypeInfoResolverChain.ToList();
            var names = string.Join(", ", chain.Select(resolver => resolver.GetType().Name));
            var context = chain.IndexOf(WireJsonContext.Default);
            var reflection = chain.FindIndex(resolver => resolver is DefaultJsonTypeInfoResolver);
            Assert.True(context >= 0 && context < reflection, $"{name}: {names}");
            foreach (var type in hot)
            {
                Assert.NotNull(((IJsonTypeInfoResolver)WireJsonContext.Default).GetTypeInfo(type, options));
                Assert.All(chain.Take(context), resolver => Assert.Null(resolver.GetTypeInfo(type, options)));
            }

            // A type the context does not list is still written, by reflection, with the contract's conventions.
            Assert.Equal("""{"alertKind":"longest-wait"}""", JsonSerializer.Serialize(new { AlertKind = RoutingCluster.Routing.Alerts.AlertKind.LongestWait }, options));
        }
    }

    [Theory]
    [InlineData(CreateRequestJson)]
    [InlineData("""{"queueId":"cards","channel":"5g","customer":{"id":"c-1","segments":["vip","military","disabled"]},"preferredAgentId":"agent-7","preferredAgentWaitSeconds":12.5}""")]
    [InlineData("""{"queueId":"cards","channel":"voice","customer":{"id":"c-1","age":null,"segments":null,"shoeSize":44},"skills":null,"attributes":{},"extra":[1,{"a":null}]}""")]
    public void CreateRequest_ReadsAndWritesAsReflectionDoes(string json)
    {
        AssertReadsAsReflection<CreateSessionRequest>(json, WireJson.Requests);
        AssertWritesAsReflection(JsonSerializer.Deserialize<CreateSessionRequest>(json, WireJson.Requests)!, Http);
    }

    [Theory]
    [InlineData("""{"queueId":"cards","channel":"FiveG","customer":{"id":"c-1"}}""")]
    [InlineData("""{"queueId":"cards","channel":"voice","customer":{"id":"c-1","age":"72"}}""")]
    [InlineData("""{"queueId":"cards","channel":"voice","customer":{"id":"c-1","segments":["elderly",3]}}""")]
    [InlineData("""{"queueId":"cards","channel":"voice","skills":{"cards":2.5}}""")]
    [InlineData("""{"queueId":7}""")]
    public void CreateRequest_RefusesWhatReflectionRefuses_WithTheSameMessageAndPath(string json)
    {
        var generated = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<CreateSessionRequest>(json, WireJson.Requests));
        var reflected = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<CreateSessionRequest>(json, ReflectionOnly(WireJson.Requests)));

        Assert.Equal(reflected.GetType(), generated.GetType());
        Assert.Equal(reflected.Path, generated.Path);
        Assert.Equal(reflected is WireValueException ? reflected.Message : null, generated is WireValueException ? generated.Message : null);
    }

    [Theory]
    [InlineData("""{"state":"not-ready","reason":"break"}""")]
    [InlineData("""{"state":"ready","reason":null,"unknown":true}""")]
    public void AgentStateRequest_ReadsAsReflectionDoes(string json) => AssertReadsAsReflection<SetAgentStateRequest>(json, WireJson.Requests);

    [Fact]
    public void AgentRequests_ReadAsReflectionDoes()
    {
        AssertReadsAsReflection<PutAgentRequest>("""{"name":"Agent 42","skills":{"cards":4},"queues":["cards","loans"],"capacity":{"5g":2,"voice":1}}""", WireJson.Requests);
        AssertReadsAsReflection<MoveAgentRequest>("""{"queues":["cards"]}""", WireJson.Requests);
        AssertReadsAsReflection<TransferRequest>("""{"queueId":null,"agentId":"agent-7"}""", WireJson.Requests);
        AssertReadsAsReflection<CallbackRequest>("""{"at":"2026-11-23T09:30:00+01:00"}""", WireJson.Requests);
    }

    [Fact]
    public void SessionView_WritesAndReadsAsReflectionDoes()
    {
        AssertBothWays(CompletedSession(HeadStart.OfSeconds(60)), Http);
        AssertBothWays(CompletedSession(HeadStart.Strict), Http);
        AssertBothWays(new SessionResponse(
            "s-2", SessionState.Queued, "cards", Channel.Chat, null, [], At, At, null, null, null, null, null, null,
            new Dictionary<string, int>(), null, [], [new SessionEventResponse(SessionState.Queued, At, "cards", null, null)], null), Http);

        // A followed session's events (server-sent, each written as object).
        AssertBothWays(new global::RoutingCluster.SiloHost.Api.SessionEventResponse(
            "s-1", SessionEventType.Position, SessionState.Queued, "cards", null, At, 3, 42.5, CallbackProposed: true), Http);
        AssertBothWays(new global::RoutingCluster.SiloHost.Api.SessionEventResponse(
            "s-1", SessionEventType.Offered, SessionState.Offered, "cards", "agent-0042", At, null, null, Kind: OfferKind.Callback), Http);
    }

    [Fact]
    public void AgentView_WritesAndReadsAsReflectionDoes()
    {
        AssertBothWays(AgentResponse.From(BusyAgent()), Http);
        AssertBothWays(BusyAgent(), Http);
        AssertBothWays(BusyAgent(), Hub);
        AssertBothWays(new AgentView { Id = "agent-0", State = AgentState.LoggedOut, StateSince = At }, Hub);
    }

    [Fact]
    public void HubMessages_WriteAndReadAsReflectionDoes()
    {
        AssertBothWays(Offer(), Hub);
        AssertBothWays(Offer() with { Segments = [], Kind = OfferKind.Inbound, WaitedSeconds = 0 }, Hub);
        AssertBothWays(new HubResult(true, 200, null), Hub);
        AssertBothWays(new HubResult(false, 409, "The offer expired."), Hub);
        AssertBothWays("0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190", Hub);
    }

    /// <summary>The SignalR protocol writes each argument as <c>object</c> (its runtime type), the HTTP results as their
    /// declared type: both are checked, and reading the JSON back gives what reflection reads.</summary>
    private static void AssertBothWays<T>(T value, JsonSerializerOptions generated)
    {
        var reflection = ReflectionOnly(generated);
        Assert.NotNull(((IJsonTypeInfoResolver)WireJsonContext.Default).GetTypeInfo(typeof(T), generated));

        var expected = JsonSerializer.Serialize(value, reflection);
        Assert.Equal(expected, JsonSerializer.Serialize(value, generated));
        Assert.Equal(expected, JsonSerializer.Serialize<object?>(value, generated));
        Assert.Equal(expected, Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(value, generated)));

        var readGenerated = JsonSerializer.Deserialize<T>(expected, generated);
        var readReflection = JsonSerializer.Deserialize<T>(expected, reflection);
        Assert.Equal(JsonSerializer.Serialize(readReflection, reflection), JsonSerializer.Serialize(readGenerated, reflection));
        Assert.Equal(expected, JsonSerializer.Serialize(readGenerated, reflection));
    }

    private static void AssertWritesAsReflection<T>(T value, JsonSerializerOptions generated)
    {
        Assert.NotNull(((IJsonTypeInfoResolver)WireJsonContext.Default).GetTypeInfo(typeof(T), generated));
        Assert.Equal(JsonSerializer.Serialize(value, ReflectionOnly(generated)), JsonSerializer.Serialize(value, generated));
    }

    /// <summary>Reads <paramref name="json"/> with both and compares what was read, field by field (written back by
    /// reflection; unknown fields kept in the extension data included).</summary>
    private static void AssertReadsAsReflection<T>(string json, JsonSerializerOptions generated)
    {
        var reflection = ReflectionOnly(generated);
        Assert.NotNull(((IJsonTypeInfoResolver)WireJsonContext.Default).GetTypeInfo(typeof(T), generated));

        var readGenerated = JsonSerializer.Deserialize<T>(json, generated);
        var readReflection = JsonSerializer.Deserialize<T>(json, reflection);

        Assert.Equal(JsonSerializer.Serialize(readReflection, reflection), JsonSerializer.Serialize(readGenerated, reflection));
    }

    /// <summary>The same options (converters, naming, number handling, encoder), served by reflection only.</summary>
    private static JsonSerializerOptions ReflectionOnly(JsonSerializerOptions options) =>
        new(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static SessionResponse CompletedSession(HeadStart headStart) => new(
        "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190",
        SessionState.Completed,
        "cards",
        Channel.FiveG,
        "agent-0042",
        [Segment.Elderly, Segment.Vip],
        At,
        At.AddSeconds(0.5),
        At.AddSeconds(8.5),
        At.AddSeconds(23.5),
        At.AddSeconds(11.5),
        At.AddSeconds(183),
        At.AddSeconds(193.25),
        new ExplanationResponse("session-surplus", 3, AgentSelection.MostSkilled, "agent-0042",
            new Dictionary<string, int> { ["cards"] = 4, ["mandarin"] = 3 }, 0.2, null,
            new Dictionary<string, int> { ["cards"] = 2 }, 68.5, 8.5, headStart, true, false, At.AddSeconds(8.5)),
        new Dictionary<string, int> { ["cards"] = 2, ["mandarin"] = 1 },
        "agent-0042",
        ["agent-0007"],
        [
            new SessionEventResponse(SessionState.Queued, At, "cards", null, null),
            new SessionEventResponse(SessionState.Offered, At.AddSeconds(8.5), "cards", "agent-0042", "offer \"1\" <é>"),
            new SessionEventResponse(SessionState.Completed, At.AddSeconds(193.25), "cards", "agent-0042", null),
        ],
        new CallbackResponse(At, null));

    private static AgentView BusyAgent() => new()
    {
        Id = "agent-0042",
        Name = "Agent 42",
        State = AgentState.NotReady,
        Reason = "break",
        Sessions =
        [
            new AgentSessionView("s-1", Channel.Voice, HeldState.Connected, "cards", At, null),
            new AgentSessionView("s-2", Channel.Chat, HeldState.WrapUp, "loans", At, At.AddSeconds(30)),
        ],
        Offers = [new AgentOfferView("s-3", At.AddSeconds(15), Channel.FiveG, "cards", At) { Segments = [Segment.Elderly], QueuedAt = null, Kind = OfferKind.Callback }],
        Skills = new Dictionary<string, int> { ["cards"] = 4, ["loans"] = 2 },
        Queues = ["cards", "loans"],
        Capacity = new Dictionary<Channel, int> { [Channel.Voice] = 1, [Channel.FiveG] = 2 },
        StateSince = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(1)),
        Version = 17,
        ForcedBy = "supervisor-1",
    };

    private static OfferNotice Offer() => new()
    {
        SessionId = "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190",
        Channel = Channel.Wechat,
        QueueId = "cards",
        Segments = [Segment.Elderly, Segment.Disabled],
        WaitedSeconds = 8.512,
        OfferedAt = At,
        ExpiresAt = At.AddSeconds(15),
        Kind = OfferKind.Callback,
    };
}
