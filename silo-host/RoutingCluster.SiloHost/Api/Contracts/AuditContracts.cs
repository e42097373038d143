using System.Text.Json;
using RoutingCluster.Abstractions.Audit;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary>Who did it: the token's <c>sub</c> and roles, and the gateway or agent it acts for.</summary>
public sealed record AuditActorResponse(string? Sub, IReadOnlyList<string> Roles, string? ClientId, string? AgentId);

/// <summary>One record of <c>GET /v1/audit</c>. <c>before</c> and <c>after</c> are a configuration as the API answers
/// it (null where there was none), or for other actions what was set (<c>after</c> only).</summary>
public sealed record AuditRecordResponse(
    long Id,
    DateTimeOffset At,
    AuditActorResponse Actor,
    string? RemoteAddress,
    string Action,
    string? TargetId,
    string Outcome,
    bool Forced,
    string? Detail,
    JsonElement? Before,
    JsonElement? After,
    string? TraceId)
{
    public static AuditRecordResponse From(AuditRecord record) => new(
        record.Id,
        record.At,
        new AuditActorResponse(record.Actor.Subject, record.Actor.Roles, record.Actor.ClientId, record.Actor.AgentId),
        record.RemoteAddress,
        record.Action,
        record.TargetId,
        record.Outcome,
        record.Forced,
        record.Detail,
        Parse(record.Before),
        Parse(record.After),
        record.TraceId);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}

/// <summary>An agent's profile in the audit log's <c>before</c>/<c>after</c> (<c>PUT /v1/agents/{id}</c>).</summary>
public sealed record AgentConfiguration(
    string? Name,
    IReadOnlyDictionary<string, int> Skills,
    IReadOnlyList<string> Queues,
    IReadOnlyDictionary<RoutingCluster.Routing.Model.Channel, int>? Capacity)
{
    public static AgentConfiguration From(RoutingCluster.Abstractions.Agents.AgentProfile profile) =>
        new(profile.Name, profile.Skills, profile.Queues, profile.Capacity);

    public static AgentConfiguration From(RoutingCluster.Abstractions.Agents.AgentView view) =>
        new(view.Name, view.Skills, view.Queues, view.Capacity);
}

/// <summary>The queues an agent serves, in the audit log's <c>before</c>/<c>after</c> of a move.</summary>
public sealed record AgentQueuesConfiguration(IReadOnlyList<string> Queues);

/// <summary>The state set, in the audit log's <c>after</c> of an agent state change.</summary>
public sealed record AgentStateChange(RoutingCluster.Routing.Model.AgentState State, string? Reason);

/// <summary>Where a session was transferred to, in the audit log's <c>after</c>.</summary>
public sealed record TransferTarget(string QueueId, string? AgentId);
