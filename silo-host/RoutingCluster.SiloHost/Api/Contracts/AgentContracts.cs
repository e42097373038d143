using System.Text.Json;
using System.Text.Json.Serialization;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary><c>PUT /v1/agents/{id}</c>: the agent's profile. Every field is optional; the profile is replaced.</summary>
public sealed class PutAgentRequest : IRequestBody
{
    public string? Name { get; set; }

    public Dictionary<string, int>? Skills { get; set; }

    public List<string>? Queues { get; set; }

    /// <summary>Sessions per channel. Absent: the defaults (voice 1, video 1, chat 3, email 5, ...); present: the
    /// complete set, a channel left out is one the agent does not work.</summary>
    public Dictionary<Channel, int>? Capacity { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        errors.Text("name", Name, Limits.MaxNameLength);
        errors.Skills("skills", Skills);
        AgentQueues.Validate(errors, Queues);

        foreach (var (channel, capacity) in Capacity ?? [])
        {
            errors.Range($"capacity.{WireNames<Channel>.Of(channel)}", capacity, 0, Limits.MaxCapacity);
        }
    }

    public AgentProfile ToProfile() => new()
    {
        Name = Name,
        Skills = Skills ?? [],
        Queues = [.. (Queues ?? []).Distinct(StringComparer.Ordinal)],
        Capacity = Capacity,
    };
}

/// <summary><c>POST /v1/agents/{id}/state</c>: <c>{ "state": "not-ready", "reason": "break" }</c>.</summary>
public sealed class SetAgentStateRequest : IRequestBody
{
    public AgentState? State { get; set; }

    /// <summary>A reason code (break, training, meeting, ...); kept only with <c>not-ready</c>.</summary>
    public string? Reason { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        errors.Required("state", State);
        errors.Id("reason", Reason);
    }
}

/// <summary><c>PUT /v1/agents/{id}/queues</c>: <c>{ "queues": [ "cards", "loans" ] }</c>, the queues the agent serves from now on.</summary>
public sealed class MoveAgentRequest : IRequestBody
{
    public List<string>? Queues { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        errors.Required("queues", Queues);
        AgentQueues.Validate(errors, Queues);
    }

    public IReadOnlyList<string> ToQueues() => [.. Queues!.Distinct(StringComparer.Ordinal)];
}

/// <summary>The queues an agent serves, as a request names them.</summary>
internal static class AgentQueues
{
    public static void Validate(FieldErrors errors, List<string>? queues)
    {
        if (queues is null)
        {
            return;
        }

        if (queues.Count > Limits.MaxQueuesPerAgent)
        {
            errors.Add("queues", $"At most {Limits.MaxQueuesPerAgent} queues.");
        }

        for (var i = 0; i < queues.Count; i++)
        {
            errors.Id($"queues[{i}]", queues[i], required: true);
        }
    }
}

/// <summary><c>GET /v1/agents/{id}</c>: state, sessions held, pending offers, and the profile.</summary>
public sealed record AgentResponse(
    string Id,
    string? Name,
    AgentState State,
    string? Reason,
    DateTime StateSince,
    IReadOnlyList<AgentSessionResponse> Sessions,
    IReadOnlyList<AgentOfferResponse> Offers,
    IReadOnlyDictionary<string, int> Skills,
    IReadOnlyList<string> Queues,
    IReadOnlyDictionary<Channel, int> Capacity,
    long Version,
    string? ForcedBy)
{
    public static AgentResponse From(AgentView v) => new(
        v.Id,
        v.Name,
        v.State,
        v.Reason,
        Wire.Utc(v.StateSince),
        [.. v.Sessions.Select(s => new AgentSessionResponse(s.SessionId, s.Channel, s.State, s.QueueId, Wire.Utc(s.Since), Wire.Utc(s.WrapUpUntil)))],
        [.. v.Offers.Select(o => new AgentOfferResponse(o.SessionId, Wire.Utc(o.ExpiresAt), o.Channel, o.QueueId, Wire.Utc(o.OfferedAt), o.Segments, Wire.Utc(o.QueuedAt), o.Kind))],
        v.Skills,
        v.Queues,
        v.Capacity,
        v.Version,
        v.ForcedBy);
}

/// <summary>A session the agent holds: <c>connected</c> or in <c>wrap-up</c>.</summary>
public sealed record AgentSessionResponse(string SessionId, Channel Channel, HeldState State, string QueueId, DateTime Since, DateTime? WrapUpUntil);

/// <summary>A pending offer: accept or reject it before <see cref="ExpiresAt"/>.</summary>
public sealed record AgentOfferResponse(
    string SessionId, DateTime ExpiresAt, Channel Channel, string QueueId, DateTime OfferedAt, IReadOnlyList<Segment> Segments, DateTime? QueuedAt,
    OfferKind Kind);
