using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary><c>POST /v1/sessions</c>: a gateway asks for a human for one customer contact.</summary>
/// <remarks>The request bodies' properties are settable, not init-only: the JSON metadata generated for them
/// (<see cref="Json.WireJsonContext"/>) then fills them one by one, as reflection does; for init-only properties it
/// would build the object through an initializer, which cannot take the unknown fields (<see cref="Unknown"/>).</remarks>
public sealed class CreateSessionRequest : IRequestBody
{
    public string? QueueId { get; set; }

    public Channel? Channel { get; set; }

    public CustomerRequest? Customer { get; set; }

    public Dictionary<string, int>? Skills { get; set; }

    public string? PreferredAgentId { get; set; }

    /// <summary>How long the preferred agent gets the session first (seconds, default 0).</summary>
    public double? PreferredAgentWaitSeconds { get; set; }

    public Dictionary<string, string>? Attributes { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        errors.Id("queueId", QueueId, required: true);
        errors.Required("channel", Channel);
        errors.Required("customer", Customer);
        Customer?.Validate(errors);
        errors.Skills("skills", Skills);
        errors.Id("preferredAgentId", PreferredAgentId);
        errors.Seconds("preferredAgentWaitSeconds", PreferredAgentWaitSeconds);
        if (Attributes is { } attributes)
        {
            if (attributes.Count > Limits.MaxAttributes)
            {
                errors.Add("attributes", $"At most {Limits.MaxAttributes} attributes.");
            }

            foreach (var (name, value) in attributes)
            {
                errors.Text($"attributes.{name}", name, Limits.MaxIdLength);

                // The serializer reads a JSON null into a string value, whatever the declared nullability.
                if (value is null)
                {
                    errors.Add($"attributes.{name}", "Must be a string, not null.");
                }
                else if (value.Length > Limits.MaxAttributeValueLength)
                {
                    errors.Add($"attributes.{name}", $"At most {Limits.MaxAttributeValueLength} characters.");
                }
            }
        }
    }

    /// <summary>The validated request as the session grain takes it: the customer by its pseudonym, never its id, and
    /// the request's keyed fingerprint.</summary>
    public NewSession ToNewSession(CustomerPseudonyms pseudonyms) => new()
    {
        QueueId = QueueId!,
        Channel = Channel!.Value,
        Customer = new Customer(pseudonyms.OfCustomer(Customer!.Id!), Customer.Age, Customer.SortedSegments),
        Skills = Skills ?? [],
        PreferredAgentId = PreferredAgentId,
        PreferredAgentWaitSeconds = PreferredAgentWaitSeconds ?? 0,
        Attributes = Attributes ?? [],
        Fingerprint = Fingerprint(pseudonyms),
    };

    /// <summary>
    /// The keyed fingerprint (<see cref="CustomerPseudonyms.Fingerprint"/>, an HMAC-SHA256 in hex) of the request in a
    /// canonical form: fixed field order, dictionary keys sorted, segments sorted and distinct. A retry with the same
    /// idempotency key must carry the same fingerprint. Keyed, so that a stored fingerprint cannot be matched against
    /// guessed requests (customer ids, phone numbers) by anyone without the key.
    /// </summary>
    public string Fingerprint(CustomerPseudonyms pseudonyms) => pseudonyms.Fingerprint(CanonicalForm());

    /// <summary>The request as UTF-8 JSON in its canonical form (see <see cref="Fingerprint"/>).</summary>
    private ReadOnlySpan<byte> CanonicalForm()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("queueId", QueueId);
            w.WriteString("channel", Channel is { } c ? WireNames<Channel>.Of(c) : null);
            w.WriteStartObject("customer");
            w.WriteString("id", Customer?.Id);
            if (Customer?.Age is { } age)
            {
                w.WriteNumber("age", age);
            }

            w.WriteStartArray("segments");
            foreach (var s in Customer?.SortedSegments ?? [])
            {
                w.WriteStringValue(WireNames<Segment>.Of(s));
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("skills");
            foreach (var (k, v) in (Skills ?? []).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteNumber(k, v);
            }

            w.WriteEndObject();
            w.WriteString("preferredAgentId", PreferredAgentId);
            w.WriteNumber("preferredAgentWaitSeconds", PreferredAgentWaitSeconds ?? 0);
            w.WriteStartObject("attributes");
            foreach (var (k, v) in (Attributes ?? []).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan;
    }
}

public sealed class CustomerRequest
{
    public string? Id { get; set; }

    public int? Age { get; set; }

    public List<Segment>? Segments { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    // An array, not a collection expression: grain storages that write type names (the memory storage's JSON) must be
    // able to read the type back, and a compiler-generated collection type cannot be.
    internal IReadOnlyList<Segment> SortedSegments => (Segments ?? []).Distinct().Order().ToArray();

    public void Validate(FieldErrors errors)
    {
        errors.Unknown("customer", Unknown);

        // The customer id is the bank's own (it may be a phone number): its length is checked, never its
        // characters; no answer echoes it, and it goes no further than the API, which turns it into its pseudonym.
        errors.Text("customer.id", Id, Limits.MaxIdLength, required: true);
        errors.Range("customer.age", Age, 0, Limits.MaxAge);
    }
}

/// <summary><c>POST /v1/sessions/{id}/callback</c>: the customer leaves the line to be called back, at once (<c>at</c>
/// null) or at <c>at</c>. Whether <c>at</c> is in the future and within <see cref="MaxAhead"/> is checked against the
/// clock by the handler.</summary>
public sealed class CallbackRequest : IRequestBody
{
    /// <summary>How far ahead a callback may be scheduled.</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(7);

    public DateTimeOffset? At { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public void Validate(FieldErrors errors) => errors.Unknown(string.Empty, Unknown);
}

/// <summary><c>POST /v1/sessions/{id}/transfer</c>: to a queue, to an agent, or to an agent in a queue.</summary>
public sealed class TransferRequest : IRequestBody
{
    public string? QueueId { get; set; }

    public string? AgentId { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        if (QueueId is null && AgentId is null)
        {
            errors.Add("queueId", "Give queueId, agentId or both.");
            errors.Add("agentId", "Give queueId, agentId or both.");
        }

        errors.Id("queueId", QueueId);
        errors.Id("agentId", AgentId);
    }
}

/// <summary>The wire view of a session, the JSON of <c>GET /v1/sessions/{id}</c>: state, queue, agent, timestamps and
/// why it went to its agent. Made from the grain-side <see cref="SessionView"/>.</summary>
public sealed record SessionResponse(
    string Id,
    SessionState State,
    string QueueId,
    Channel Channel,
    string? AgentId,
    IReadOnlyList<Segment> Segments,
    DateTime CreatedAt,
    DateTime? QueuedAt,
    DateTime? OfferedAt,
    DateTime? OfferExpiresAt,
    DateTime? AnsweredAt,
    DateTime? EndedAt,
    DateTime? CompletedAt,
    ExplanationResponse? Explanation,
    IReadOnlyDictionary<string, int> Skills,
    string? PreferredAgentId,
    IReadOnlyList<string> RejectedBy,
    IReadOnlyList<SessionEventResponse> History,
    CallbackResponse? Callback)
{
    public static SessionResponse From(SessionView v) => new(
        v.Id,
        v.State,
        v.QueueId,
        v.Channel,
        v.AgentId,
        v.Segments,
        Wire.Utc(v.CreatedAt),
        Wire.Utc(v.QueuedAt),
        Wire.Utc(v.OfferedAt),
        Wire.Utc(v.OfferExpiresAt),
        Wire.Utc(v.AnsweredAt),
        Wire.Utc(v.EndedAt),
        Wire.Utc(v.CompletedAt),
        v.Explanation is { } e ? ExplanationResponse.From(e) : null,
        v.Skills,
        v.PreferredAgentId,
        v.RejectedBy,
        [.. v.History.Select(h => new SessionEventResponse(h.State, Wire.Utc(h.At), h.QueueId, h.AgentId, h.Note))],
        v.Callback is { } c ? new CallbackResponse(Wire.Utc(c.RequestedAt), Wire.Utc(c.At)) : null);
}

/// <summary>A session's callback: when the customer asked for it, and when it is scheduled (null: at once, keeping the
/// session's place).</summary>
public sealed record CallbackResponse(DateTime RequestedAt, DateTime? At);

/// <summary>Why the session went to its agent: what support reads to answer "why did this customer wait".</summary>
public sealed record ExplanationResponse(
    string Decision,
    int CandidateCount,
    AgentSelection Strategy,
    string AgentId,
    IReadOnlyDictionary<string, int> AgentSkills,
    double AgentIdleSeconds,
    int? RelaxationStep,
    IReadOnlyDictionary<string, int> MinimumLevels,
    double Score,
    double WaitedSeconds,
    HeadStart HeadStart,
    bool PreferredAgent,
    bool PreviouslyRejected,
    DateTime DecidedAt)
{
    public static ExplanationResponse From(Explanation e) => new(
        e.Decision,
        e.CandidateCount,
        e.Strategy,
        e.AgentId,
        e.AgentSkills,
        Wire.Seconds(e.AgentIdleSeconds),
        e.RelaxationStep,
        e.MinimumLevels,
        Wire.Seconds(e.Score),
        Wire.Seconds(e.WaitedSeconds),
        ParseHeadStart(e.HeadStart),
        e.PreferredAgent,
        e.PreviouslyRejected,
        Wire.Utc(e.DecidedAt));

    /// <summary>The grain records the head start as text ("60" or "strict"); the wire shows it as in a queue's
    /// configuration: a number of seconds or "strict".</summary>
    private static HeadStart ParseHeadStart(string text) =>
        text == HeadStartJsonConverter.StrictName ? HeadStart.Strict
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? HeadStart.OfSeconds(seconds)
        : HeadStart.None;
}

public sealed record SessionEventResponse(SessionState State, DateTime At, string QueueId, string? AgentId, string? Note);
