using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.SignalR;

namespace RoutingCluster.Client.Tests.Json;

/// <summary>
/// The client writes (and reads) its hot requests with the metadata generated at build time
/// (<see cref="RoutingJsonContext"/>), and the bytes are the ones reflection gives: for each payload, with the client's
/// options (HTTP, and the agent hub's payloads) against the same options served by reflection only, both ways. The
/// views it reads stay with reflection, which keeps their initial values for fields a server leaves out.
/// </summary>
public sealed class GeneratedJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 23, 8, 0, 0, 123, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Hub = CreateHubOptions();

    [Fact]
    public void ClientOptions_PutTheGeneratedMetadataFirst_AndKeepReflectionForOtherTypes()
    {
        foreach (var options in new[] { RoutingJson.Options, Hub })
        {
            Assert.Same(RoutingJsonContext.Default, options.TypeInfoResolverChain[0]);
            Assert.Contains(options.TypeInfoResolverChain, resolver => resolver is DefaultJsonTypeInfoResolver);
            Assert.Equal("""{"agentSelection":"most-skilled"}""", JsonSerializer.Serialize(new QueueSettings { AgentSelection = AgentSelection.MostSkilled }, options));
        }
    }

    [Theory]
    [InlineData(typeof(CreateSessionRequest))]
    [InlineData(typeof(Customer))]
    [InlineData(typeof(TransferRequest))]
    [InlineData(typeof(CallbackRequest))]
    [InlineData(typeof(SessionUpdate))]
    [InlineData(typeof(AgentProfile))]
    [InlineData(typeof(AgentStateChange))]
    [InlineData(typeof(AgentQueuesChange))]
    [InlineData(typeof(AgentActionResult))]
    public void HotPayloads_AreServedByTheGeneratedMetadata(Type type)
    {
        Assert.NotNull(((IJsonTypeInfoResolver)RoutingJsonContext.Default).GetTypeInfo(type, RoutingJson.Options));
        Assert.NotNull(((IJsonTypeInfoResolver)RoutingJsonContext.Default).GetTypeInfo(type, Hub));
    }

    /// <summary>The generated reader would set an init-only property left out of the JSON to null, not to its initial
    /// value: the views keep reflection, and a view without its lists reads as empty lists.</summary>
    [Fact]
    public void Views_AreLeftToReflection_AndKeepTheirInitialValuesForFieldsLeftOut()
    {
        foreach (var type in new[] { typeof(ClientSessionView), typeof(SessionExplanation), typeof(AgentView), typeof(OfferNotice) })
        {
            Assert.Null(((IJsonTypeInfoResolver)RoutingJsonContext.Default).GetTypeInfo(type, RoutingJson.Options));
        }

        var session = JsonSerializer.Deserialize<ClientSessionView>("""{"id":"s-1","state":"queued","queueId":"cards","channel":"chat"}""", RoutingJson.Options)!;
        var agent = JsonSerializer.Deserialize<AgentView>("""{"id":"a-1","state":"ready"}""", Hub)!;
        var offer = JsonSerializer.Deserialize<OfferNotice>("""{"sessionId":"s-1","channel":"chat","queueId":"cards"}""", Hub)!;

        Assert.Empty(session.Segments);
        Assert.Empty(session.Skills);
        Assert.Empty(session.History);
        Assert.Empty(agent.Sessions);
        Assert.Empty(agent.Offers);
        Assert.Empty(agent.Capacity);
        Assert.Empty(offer.Segments);
    }

    [Fact]
    public void Requests_WriteAsReflectionDoes()
    {
        var options = RoutingJson.Options;
        AssertBothWays(new CreateSessionRequest
        {
            QueueId = "cards",
            Channel = Channel.FiveG,
            Customer = new Customer { Id = "c-00412345", Age = 72, Segments = [Segment.Elderly, Segment.Vip] },
            Skills = new Dictionary<string, int> { ["cards"] = 2, ["mandarin"] = 1 },
            PreferredAgentId = "agent-7",
            PreferredAgentWaitSeconds = 12.5,
            Attributes = new Dictionary<string, string> { ["ivrPath"] = "1-3-2", ["callerLine"] = "+8613800000000" },
        }, options);
        AssertBothWays(new CreateSessionRequest { QueueId = "cards", Channel = Channel.Voice, Customer = new Customer { Id = "c-1" } }, options);
        AssertBothWays(new AgentStateChange(AgentState.NotReady, "break"), options);
        AssertBothWays(new AgentStateChange(AgentState.Ready), options);
        AssertBothWays(new AgentProfile { Name = "Agent 42", Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = ["cards"], Capacity = new Dictionary<Channel, int> { [Channel.FiveG] = 2 } }, options);
        AssertBothWays(new AgentQueuesChange(["cards", "loans"]), options);
        AssertBothWays(new TransferRequest { AgentId = "agent-7" }, options);
        AssertBothWays(new CallbackRequest { At = At }, options);
        AssertBothWays(new CallbackRequest(), options);
    }

    [Fact]
    public void SessionView_ReadsAsReflectionDoes()
    {
        const string json = """
            {"id":"0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190","state":"completed","queueId":"cards","channel":"5g","agentId":"agent-0042","segments":["elderly","vip"],"createdAt":"2026-11-23T08:00:00.123Z","queuedAt":"2026-11-23T08:00:00.623Z","offeredAt":"2026-11-23T08:00:08.623Z","offerExpiresAt":"2026-11-23T08:00:23.623Z","answeredAt":"2026-11-23T08:00:11.623Z","endedAt":"2026-11-23T08:03:03.123Z","completedAt":"2026-11-23T08:03:13.373Z","explanation":{"decision":"session-surplus","candidateCount":3,"strategy":"most-skilled","agentId":"agent-0042","agentSkills":{"cards":4,"mandarin":3},"agentIdleSeconds":0.2,"relaxationStep":null,"minimumLevels":{"cards":2},"score":68.5,"waitedSeconds":8.5,"headStart":"strict","preferredAgent":true,"previouslyRejected":false,"decidedAt":"2026-11-23T08:00:08.623Z"},"skills":{"cards":2,"mandarin":1},"preferredAgentId":"agent-0042","rejectedBy":["agent-0007"],"history":[{"state":"queued","at":"2026-11-23T08:00:00.123Z","queueId":"cards","agentId":null,"note":null},{"state":"offered","at":"2026-11-23T08:00:08.623Z","queueId":"cards","agentId":"agent-0042","note":"offer \"1\" <é>"}],"callback":{"requestedAt":"2026-11-23T08:00:00.123Z","at":null}}
            """;
        AssertReadsAsReflection<ClientSessionView>(json, RoutingJson.Options);
        AssertReadsAsReflection<ClientSessionView>(json.Replace("\"strict\"", "60", StringComparison.Ordinal).Replace("\"callback\":{\"requestedAt\":\"2026-11-23T08:00:00.123Z\",\"at\":null}", "\"callback\":null", StringComparison.Ordinal), RoutingJson.Options);
        AssertReadsAsReflection<ClientSessionView>("""{"id":"s-2","state":"queued","queueId":"cards","channel":"chat","segments":[],"createdAt":"2026-11-23T08:00:00Z","explanation":null,"unknownField":1}""", RoutingJson.Options);
        AssertReadsAsReflection<SessionUpdate>("""{"sessionId":"s-1","type":"position","state":"queued","queueId":"cards","agentId":null,"at":"2026-11-23T08:00:01Z","position":3,"estimatedWaitSeconds":42.5,"callbackProposed":true,"kind":null}""", RoutingJson.Options);
        AssertReadsAsReflection<SessionUpdate>("""{"sessionId":"s-1","type":"offered","state":"offered","queueId":"cards","agentId":"agent-7","at":"2026-11-23T08:00:01Z","kind":"callback","extra":1}""", RoutingJson.Options);
    }

    [Fact]
    public void HubMessages_ReadAndWriteAsReflectionDoes()
    {
        const string agent = """
            {"id":"agent-0042","name":"Agent 42","state":"not-ready","reason":"break","sessions":[{"sessionId":"s-1","channel":"voice","state":"connected","queueId":"cards","since":"2026-11-23T08:00:00.123Z","wrapUpUntil":null},{"sessionId":"s-2","channel":"chat","state":"wrap-up","queueId":"loans","since":"2026-11-23T08:00:00.123Z","wrapUpUntil":"2026-11-23T08:00:30.123Z"}],"offers":[{"sessionId":"s-3","expiresAt":"2026-11-23T08:00:15.123Z","channel":"5g","queueId":"cards","offeredAt":"2026-11-23T08:00:00.123Z","segments":["elderly"],"queuedAt":null,"kind":"callback"}],"skills":{"cards":4,"loans":2},"queues":["cards","loans"],"capacity":{"voice":1,"5g":2},"stateSince":"2026-11-23T09:00:00+01:00","version":17,"forcedBy":"supervisor-1"}
            """;
        const string offer = """
            {"sessionId":"0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190","channel":"wechat","queueId":"cards","segments":["elderly","disabled"],"waitedSeconds":8.512,"offeredAt":"2026-11-23T08:00:00.123Z","expiresAt":"2026-11-23T08:00:15.123Z","kind":"callback"}
            """;
        AssertReadsAsReflection<AgentView>(agent, Hub);
        AssertReadsAsReflection<AgentView>(agent, RoutingJson.Options);
        AssertReadsAsReflection<OfferNotice>(offer, Hub);
        AssertReadsAsReflection<AgentActionResult>("""{"ok":false,"status":409,"detail":"The offer expired."}""", Hub);
        AssertReadsAsReflection<AgentActionResult>("""{"ok":true,"status":200,"detail":null}""", Hub);
        AssertBothWays(JsonSerializer.Deserialize<AgentView>(agent, Hub)!, Hub);
        AssertBothWays(JsonSerializer.Deserialize<OfferNotice>(offer, Hub)!, Hub);
        AssertBothWays("s-1", Hub);
    }

    [Theory]
    [InlineData("""{"id":"a-1","state":"dancing","stateSince":"2026-11-23T08:00:00Z"}""")]
    [InlineData("""{"id":"a-1","state":1,"stateSince":"2026-11-23T08:00:00Z"}""")]
    [InlineData("""{"id":"a-1","stateSince":"2026-11-23T08:00:00Z"}""")]
    [InlineData("""{"id":"a-1","state":"ready","capacity":{"pigeon":1}}""")]
    public void AgentView_RefusesWhatReflectionRefuses(string json)
    {
        var generated = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<AgentView>(json, RoutingJson.Options));
        var reflected = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<AgentView>(json, ReflectionOnly(RoutingJson.Options)));

        Assert.Equal(reflected.GetType(), generated.GetType());
        Assert.Equal(reflected.Path, generated.Path);
    }

    private static void AssertBothWays<T>(T value, JsonSerializerOptions generated)
    {
        var reflection = ReflectionOnly(generated);

        var expected = JsonSerializer.Serialize(value, reflection);
        Assert.Equal(expected, JsonSerializer.Serialize(value, generated));
        Assert.Equal(expected, JsonSerializer.Serialize<object?>(value, generated));
        Assert.Equal(expected, JsonSerializer.Serialize(JsonSerializer.Deserialize<T>(expected, generated), reflection));
        Assert.Equal(expected, JsonSerializer.Serialize(JsonSerializer.Deserialize<T>(expected, reflection), reflection));
    }

    /// <summary>Reads <paramref name="json"/> with both and compares what was read, field by field (written back by reflection).</summary>
    private static void AssertReadsAsReflection<T>(string json, JsonSerializerOptions generated)
    {
        var reflection = ReflectionOnly(generated);

        var readGenerated = JsonSerializer.Deserialize<T>(json, generated);
        var readReflection = JsonSerializer.Deserialize<T>(json, reflection);

        Assert.Equal(JsonSerializer.Serialize(readReflection, reflection), JsonSerializer.Serialize(readGenerated, reflection));
        Assert.Equal(JsonSerializer.Serialize(readReflection, reflection), JsonSerializer.Serialize(readGenerated, generated));
    }

    /// <summary>The same options (converters, naming, null handling, encoder), served by reflection only.</summary>
    private static JsonSerializerOptions ReflectionOnly(JsonSerializerOptions options) =>
        new(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    /// <summary>The desktop client's hub payload options (<c>AddJsonProtocol</c> with <see cref="RoutingJson.Configure"/>).</summary>
    private static JsonSerializerOptions CreateHubOptions()
    {
        var options = new JsonHubProtocolOptions().PayloadSerializerOptions;
        RoutingJson.Configure(options);
        return options;
    }
}
