using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Agents;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.Grains.Queues;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Hubs;

namespace RoutingCluster.Benchmarks.Serialization;

/// <summary>
/// What the contract costs on the way in and out: the HTTP JSON of <c>POST /v1/sessions</c> as the silo host reads
/// and writes it (its own body binder with <see cref="WireJson.Requests"/>, validation, the request fingerprint, and the
/// 201 body with the host's response options), and the Orleans serializer's round trip of the grain states that the
/// storage writes (<see cref="SessionRecord"/>, <see cref="AgentRecord"/>) and of the statistics batch a silo sends
/// each second (<see cref="StatsBatch"/>). The <c>Json_</c> pairs measure the hot payloads' JSON alone with the same
/// options twice: served by the metadata generated at build time, first in the resolver chain as the host configures
/// them (<c>_Generated</c>), and by reflection only (<c>_Reflection</c>).
/// </summary>
[MemoryDiagnoser]
public class ContractSerializationBenchmarks
{
    /// <summary>A gateway's request: an elderly customer on voice needing cards and Mandarin, with IVR attributes.</summary>
    public const string CreateRequestJson = """
        {"queueId":"cards","channel":"voice","customer":{"id":"c-00412345","age":72,"segments":["elderly"]},"skills":{"cards":2,"mandarin":1},"preferredAgentId":null,"preferredAgentWaitSeconds":0,"attributes":{"ivrPath":"1-3-2","accountType":"gold","callerLine":"+8613800000000"}}
        """;

    private static readonly DateTimeOffset Now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    /// <summary>The silo's pseudonyms (a fixed benchmark key): the mapping pseudonymizes the customer id and fingerprints
    /// the request with them.</summary>
    private static readonly CustomerPseudonyms Pseudonyms = new(Enumerable.Range(1, CustomerPseudonyms.MinimumKeyBytes).Select(i => (byte)i).ToArray());

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private byte[] _requestBytes = null!;
    private JsonSerializerOptions _responseOptions = null!;
    private JsonSerializerOptions _responseOptionsReflection = null!;
    private JsonSerializerOptions _requestOptionsReflection = null!;
    private JsonSerializerOptions _hubOptions = null!;
    private JsonSerializerOptions _hubOptionsReflection = null!;
    private SessionResponse _completedView = null!;
    private OfferNotice _offer = null!;
    private AgentView _offeredAgent = null!;
    private CreateSessionRequest _request = null!;
    private SessionView _created = null!;
    private Serializer _serializer = null!;
    private IGrainStorageSerializer _storageJson = null!;
    private IGrainStorageSerializer _storageBinary = null!;
    private IHost _silo = null!;

    public SessionRecord Session { get; private set; } = null!;

    public AgentRecord Agent { get; private set; } = null!;

    public QueueRecord Queue10k { get; private set; } = null!;

    public StatsBatch Batch { get; private set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        _requestBytes = Encoding.UTF8.GetBytes(CreateRequestJson);

        // As the host's ConfigureHttpJsonOptions: the web defaults, the contract's conventions, strict numbers.
        _responseOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        WireJson.Configure(_responseOptions);
        _responseOptions.NumberHandling = JsonNumberHandling.Strict;
        _responseOptions.MakeReadOnly(populateMissingResolver: true);
        _responseOptionsReflection = ReflectionOnly(_responseOptions);
        _requestOptionsReflection = ReflectionOnly(WireJson.Requests);

        // As the host's AddJsonProtocol: SignalR's payload defaults with the contract's conventions.
        _hubOptions = new JsonHubProtocolOptions().PayloadSerializerOptions;
        WireJson.Configure(_hubOptions);
        _hubOptions.MakeReadOnly();
        _hubOptionsReflection = ReflectionOnly(_hubOptions);

        _request = Http_CreateRequest_Bind().GetAwaiter().GetResult().Value;
        var session = _request.ToNewSession(Pseudonyms);
        _created = new SessionView
        {
            Id = "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190",
            State = SessionState.Queued,
            QueueId = session.QueueId,
            Channel = session.Channel,
            Segments = session.Customer.Segments,
            CreatedAt = Now,
            QueuedAt = Now,
            Skills = session.Skills,
            History = [new SessionEvent(SessionState.Queued, Now, session.QueueId, null)],
        };

        // The serializers of a silo, built (never started) as the benchmark silo is: Orleans' binary serializer (grain
        // calls; what the PostgreSQL and the memory storages write) and the silo's default grain
        // storage serializer (Newtonsoft JSON with type names: the serializer a silo uses by default, for comparison).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo => silo.UseLocalhostClustering());
        _silo = builder.Build();
        _serializer = _silo.Services.GetRequiredService<Serializer>();
        _storageJson = _silo.Services.GetRequiredService<IGrainStorageSerializer>();
        _storageBinary = new OrleansGrainStorageSerializer(_serializer);
        Queue10k = new QueueRecord
        {
            Exists = true,
            Name = "cards",
            Agents = [.. Enumerable.Range(0, 10_000).Select(i => $"agent-{i:D6}")],
        };
        Session = CompletedSession();
        Agent = BusyAgent();
        Batch = OneSecondOfStats();
        _completedView = SessionResponse.From(new SessionView
        {
            Id = "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190",
            State = Session.State,
            QueueId = Session.QueueId!,
            Channel = Session.Channel,
            AgentId = Session.AgentId,
            Segments = Session.Segments,
            CreatedAt = Session.CreatedAt,
            QueuedAt = Session.QueuedAt,
            OfferedAt = Session.OfferedAt,
            OfferExpiresAt = Session.OfferExpiresAt,
            AnsweredAt = Session.AnsweredAt,
            EndedAt = Session.EndedAt,
            CompletedAt = Session.CompletedAt,
            Explanation = Session.Explanation,
            Skills = Session.Skills,
            History = Session.History,
        });
        (_offer, _offeredAgent) = OfferPush();

        Check(Http_CreateRequest_ValidateAndMap().Fingerprint.Length == 64, "the request maps to a session");
        Check(Orleans_SessionRecord_RoundTrip().History.Count == Session.History.Count, "a session record round-trips");
        Check(Orleans_AgentRecord_RoundTrip().Sessions.Count == 1, "an agent record round-trips");
        Check(Orleans_StatsBatch_RoundTrip().Cells.Count == Batch.Cells.Count, "a stats batch round-trips");
        Check(MemoryStorageJson_SessionRecord_Write() > 0, "a session record is written as the memory storage's JSON");
        Check(MemoryStorageJson_AgentRecord_RoundTrip().Sessions.Count == 1, "an agent record round-trips as the memory storage's JSON");
        Check(Json_CreateRequest_Read_Generated().Customer?.Age == 72 && Json_CreateRequest_Read_Reflection().Customer?.Age == 72, "the request reads");
        Check(Json_SessionView_Write_Generated() == Json_SessionView_Write_Reflection(), "the session view is written the same by both");
        Check(Json_OfferPush_Write_Generated() == Json_OfferPush_Write_Reflection(), "the offer push is written the same by both");
        Console.WriteLine($"// JSON: session view {Json_SessionView_Write_Generated()} B, offer push (offer and agent view) {Json_OfferPush_Write_Generated()} B");
        Console.WriteLine($"// sizes: request {_requestBytes.Length} B, 201 body {Http_CreateResponse_Write()} B, SessionRecord {Size(Session)} B, "
            + $"AgentRecord {Size(Agent)} B, StatsBatch ({Batch.Cells.Count} cells, {Batch.Activities.Count} activities) {Size(Batch)} B; "
            + $"as the memory storage's {_storageJson.GetType().Name}: SessionRecord {_storageJson.Serialize(Session).ToMemory().Length} B ({JsonReadBack()}), "
            + $"AgentRecord {_storageJson.Serialize(Agent).ToMemory().Length} B");
    }

    [GlobalCleanup]
    public void Cleanup() => _silo.Dispose();

    /// <summary>The request body as the host's binder reads it (<see cref="JsonBody{T}.BindAsync"/>: buffer, parse
    /// with duplicate-field checks, deserialize with <see cref="WireJson.Requests"/>).</summary>
    [Benchmark]
    public async Task<JsonBody<CreateSessionRequest>> Http_CreateRequest_Bind()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = _requestBytes.Length;
        context.Request.Body = new MemoryStream(_requestBytes, writable: false);
        var body = await JsonBody<CreateSessionRequest>.BindAsync(context, null!);
        return body?.Error is null ? body! : throw new InvalidOperationException(body.Error.Message);
    }

    /// <summary>Validation (the host's input filter) and the mapping to the grain's request, the customer's pseudonym and
    /// the keyed fingerprint (two HMAC-SHA256) included.</summary>
    [Benchmark]
    public NewSession Http_CreateRequest_ValidateAndMap()
    {
        var errors = new FieldErrors();
        _request.Validate(errors);
        return errors.Any ? throw new InvalidOperationException("invalid") : _request.ToNewSession(Pseudonyms);
    }

    /// <summary>The 201 body: the session as created (queued), mapped and written with the host's response options.</summary>
    [Benchmark]
    public long Http_CreateResponse_Write()
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        JsonSerializer.Serialize(writer, SessionResponse.From(_created), _responseOptions);
        writer.Flush();
        return _buffer.WrittenCount;
    }

    /// <summary>The create request's JSON read with the request options as the host has them (generated metadata first).</summary>
    [Benchmark]
    public CreateSessionRequest Json_CreateRequest_Read_Generated() => JsonSerializer.Deserialize<CreateSessionRequest>(_requestBytes, WireJson.Requests)!;

    /// <summary>The same with the same options served by reflection only.</summary>
    [Benchmark]
    public CreateSessionRequest Json_CreateRequest_Read_Reflection() => JsonSerializer.Deserialize<CreateSessionRequest>(_requestBytes, _requestOptionsReflection)!;

    /// <summary>A completed session's view (<c>GET /v1/sessions/{id}</c>: explanation, five history events) written with
    /// the response options as the host has them.</summary>
    [Benchmark]
    public long Json_SessionView_Write_Generated() => Write(_completedView, _responseOptions);

    [Benchmark]
    public long Json_SessionView_Write_Reflection() => Write(_completedView, _responseOptionsReflection);

    /// <summary>The offer push's arguments (the offer and the agent's view) as the SignalR JSON protocol writes them: each
    /// as <c>object</c>, with the hub's payload options as the host has them.</summary>
    [Benchmark]
    public long Json_OfferPush_Write_Generated() => WriteArguments(_offer, _offeredAgent, _hubOptions);

    [Benchmark]
    public long Json_OfferPush_Write_Reflection() => WriteArguments(_offer, _offeredAgent, _hubOptionsReflection);

    [Benchmark]
    public SessionRecord Orleans_SessionRecord_RoundTrip() => _serializer.Deserialize<SessionRecord>(_serializer.SerializeToArray(Session))!;

    [Benchmark]
    public AgentRecord Orleans_AgentRecord_RoundTrip() => _serializer.Deserialize<AgentRecord>(_serializer.SerializeToArray(Agent))!;

    [Benchmark]
    public StatsBatch Orleans_StatsBatch_RoundTrip() => _serializer.Deserialize<StatsBatch>(_serializer.SerializeToArray(Batch))!;

    /// <summary>A session's state in the silo's default grain storage serializer, for comparison (the silo's
    /// default grain storage serializer: Newtonsoft JSON with type names; it now writes the binary form measured by
    /// <see cref="Orleans_SessionRecord_RoundTrip"/>). Written only: see <see cref="JsonReadBack"/>.</summary>
    [Benchmark]
    public int MemoryStorageJson_SessionRecord_Write() => _storageJson.Serialize(Session).ToMemory().Length;

    /// <summary>For the report: whether the memory storage's JSON of this session record reads back.</summary>
    public string JsonReadBack()
    {
        try
        {
            _ = _storageJson.Deserialize<SessionRecord>(_storageJson.Serialize(Session));
            return "reads back";
        }
        catch (Exception ex)
        {
            return $"does not read back ({ex.GetType().Name}: {ex.Message.Split('.')[0]})";
        }
    }

    [Benchmark]
    public AgentRecord MemoryStorageJson_AgentRecord_RoundTrip() => _storageJson.Deserialize<AgentRecord>(_storageJson.Serialize(Agent))!;

    /// <summary>A queue's record with 10,000 members, as a grain storage writes it: Orleans' binary form (what the
    /// memory and PostgreSQL storages write).</summary>
    [Benchmark]
    public int Storage_QueueRecord10k_Write() => _storageBinary.Serialize(Queue10k).ToMemory().Length;

    /// <summary>The same record in the default JSON grain storage serializer (for comparison).</summary>
    [Benchmark]
    public int MemoryStorageJson_QueueRecord10k_Write() => _storageJson.Serialize(Queue10k).ToMemory().Length;

    public int Size<T>(T value) => _serializer.SerializeToArray(value).Length;

    private static JsonSerializerOptions ReflectionOnly(JsonSerializerOptions options)
    {
        var reflection = new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        reflection.MakeReadOnly();
        return reflection;
    }

    private long Write<T>(T value, JsonSerializerOptions options)
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        JsonSerializer.Serialize(writer, value, options);
        writer.Flush();
        return _buffer.WrittenCount;
    }

    private long WriteArguments(object first, object second, JsonSerializerOptions options)
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        writer.WriteStartArray();
        JsonSerializer.Serialize(writer, first, options);
        JsonSerializer.Serialize(writer, second, options);
        writer.WriteEndArray();
        writer.Flush();
        return _buffer.WrittenCount;
    }

    /// <summary>An offer to an agent who holds one chat already: the push's two arguments.</summary>
    private static (OfferNotice Offer, AgentView Agent) OfferPush()
    {
        var offer = new OfferNotice
        {
            SessionId = "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190",
            Channel = Channel.Voice,
            QueueId = "cards",
            Segments = [Segment.Elderly],
            WaitedSeconds = 8.5,
            OfferedAt = Now.AddSeconds(8.5),
            ExpiresAt = Now.AddSeconds(23.5),
        };
        var agent = new AgentView
        {
            Id = "agent-0042",
            Name = "Agent 42",
            State = AgentState.Ready,
            Sessions = [new AgentSessionView("1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f", Channel.Chat, HeldState.Connected, "loans", Now, null)],
            Offers = [new AgentOfferView(offer.SessionId, offer.ExpiresAt, offer.Channel, offer.QueueId, offer.OfferedAt) { Segments = offer.Segments, QueuedAt = Now }],
            Skills = new Dictionary<string, int> { ["cards"] = 4, ["mandarin"] = 3, ["loans"] = 2 },
            Queues = ["cards", "loans"],
            Capacity = new Dictionary<Channel, int>(ChannelRules.DefaultCapacity),
            StateSince = Now,
            Version = 18,
        };
        return (offer, agent);
    }

    /// <summary>A session at the end of its life: every state in its history, the explanation of its offer.</summary>
    private SessionRecord CompletedSession()
    {
        var s = _request.ToNewSession(Pseudonyms);
        var offered = Now.AddSeconds(8.5);
        return new SessionRecord
        {
            Exists = true,
            Fingerprint = s.Fingerprint,
            QueueId = s.QueueId,
            Channel = s.Channel,
            Customer = s.Customer.Forgotten(),   // ended: the pseudonym stays, the age and the attributes are gone
            Segments = [Segment.Elderly],
            Skills = new Dictionary<string, int>(s.Skills),
            State = SessionState.Completed,
            AgentId = "agent-0042",
            CreatedAt = Now,
            QueuedAt = Now,
            OfferedAt = offered,
            OfferExpiresAt = offered.AddSeconds(15),
            AnsweredAt = offered.AddSeconds(3),
            EndedAt = offered.AddSeconds(183),
            CompletedAt = offered.AddSeconds(193),
            Explanation = new Explanation
            {
                Decision = "session-surplus",
                CandidateCount = 1,
                Strategy = AgentSelection.LongestIdle,
                AgentId = "agent-0042",
                AgentSkills = new Dictionary<string, int> { ["cards"] = 4, ["mandarin"] = 3, ["loans"] = 2 },
                AgentIdleSeconds = 0.2,
                MinimumLevels = new Dictionary<string, int> { ["cards"] = 2, ["mandarin"] = 1 },
                Score = 68.5,
                WaitedSeconds = 8.5,
                HeadStart = "60",
                DecidedAt = offered,
            },
            History =
            [
                new SessionEvent(SessionState.Queued, Now, s.QueueId, null),
                new SessionEvent(SessionState.Offered, offered, s.QueueId, "agent-0042"),
                new SessionEvent(SessionState.Connected, offered.AddSeconds(3), s.QueueId, "agent-0042"),
                new SessionEvent(SessionState.WrapUp, offered.AddSeconds(183), s.QueueId, "agent-0042"),
                new SessionEvent(SessionState.Completed, offered.AddSeconds(193), s.QueueId, "agent-0042"),
            ],
            QueueSequence = 1234,
        };
    }

    /// <summary>An agent on a call: three skills, two queues, default capacities, one session held.</summary>
    private static AgentRecord BusyAgent() => new()
    {
        Exists = true,
        Name = "Agent 42",
        Skills = new Dictionary<string, int> { ["cards"] = 4, ["mandarin"] = 3, ["loans"] = 2 },
        Queues = ["cards", "loans"],
        Capacity = new Dictionary<Channel, int>(ChannelRules.DefaultCapacity),
        State = AgentState.Ready,
        StateSince = Now,
        IdleSince = Now,
        Version = 17,
        Sessions = new Dictionary<string, HeldSession>
        {
            ["0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190"] = new()
            {
                SessionId = "0f8a5c2e9b7d4c1aa3e6b5d4c3b2a190",
                Channel = Channel.Voice,
                QueueId = "cards",
                State = HeldState.Connected,
                Since = Now.AddSeconds(11.5),
                OfferedAt = Now.AddSeconds(8.5),
                ExpiresAt = Now.AddSeconds(23.5),
                WrapUpSeconds = 10,
                Segments = [Segment.Elderly],
                QueuedAt = Now,
            },
        },
        Activity = AgentActivity.Busy,
        ActivitySince = Now.AddSeconds(11.5),
    };

    /// <summary>One flush of a silo's collector to a queue's statistics grain: the queue total, one channel, one
    /// segment, and two agents' activities.</summary>
    private static StatsBatch OneSecondOfStats()
    {
        var interval = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
        KpiCounters Counts(int offered, int answered) => new()
        {
            Offered = offered,
            Answered = answered,
            AnsweredWithinThreshold = answered,
            SpeedOfAnswerTicks = answered * TimeSpan.FromSeconds(8.5).Ticks,
            RingingTicks = answered * TimeSpan.FromSeconds(3).Ticks,
        };

        return new StatsBatch(
            Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"),
            42,
            [
                new StatsCellCounts(StatsCell.Total("cards", interval), Counts(3, 2)),
                new StatsCellCounts(new StatsCell("cards", interval, Breakdown.Channel, "voice"), Counts(3, 2)),
                new StatsCellCounts(new StatsCell("cards", interval, Breakdown.Segment, "elderly"), Counts(1, 1)),
            ],
            [
                new AgentActivityMark("agent-0042", AgentActivity.Busy, interval.AddSeconds(11.5)),
                new AgentActivityMark("agent-0043", AgentActivity.Idle, interval.AddSeconds(2)),
            ]);
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark setup is wrong: expected {what}.");
        }
    }
}
