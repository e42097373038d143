using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoutingCluster.Client;

/// <summary>An RFC 9457 problem details body, as the API answers every error.</summary>
public sealed record RoutingProblem
{
    /// <summary>The problem type URI of a session refused because its queue is full (409).</summary>
    public const string QueueFullType = "urn:routing-cluster:problem:queue-full";

    /// <summary>The problem type URI of an idempotency key reused with another request (409).</summary>
    public const string IdempotencyKeyReusedType = "urn:routing-cluster:problem:idempotency-key-reused";

    /// <summary>The problem type URI of a new session refused because the cluster is overloaded (503 with Retry-After).</summary>
    public const string OverloadedType = "urn:routing-cluster:problem:overloaded";

    public string? Type { get; init; }

    public string? Title { get; init; }

    public int? Status { get; init; }

    public string? Detail { get; init; }

    public string? Instance { get; init; }

    /// <summary>Validation problems (400), keyed by the field's JSON path: <c>customer.age</c>,
    /// <c>skills.cards</c>, <c>relaxation[0].lowerBy</c>, <c>Idempotency-Key</c>, ...</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }

    /// <summary>Every other member: <c>traceId</c>, and for a full queue <c>sessionId</c> and <c>queueId</c>.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extensions { get; init; }

    /// <summary>An extension member as a string (null when absent or not a string).</summary>
    public string? Extension(string name) =>
        Extensions is not null && Extensions.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
