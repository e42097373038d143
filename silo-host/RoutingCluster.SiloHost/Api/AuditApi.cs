using RoutingCluster.Abstractions.Audit;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api;

/// <summary><c>GET /v1/audit</c>: the audit log, newest first (auditor).</summary>
public static class AuditApi
{
    /// <summary>The longest <c>actor</c> (a token's <c>sub</c> may be an e-mail address or a URI, not an id).</summary>
    public const int MaxActorLength = 256;

    private static readonly string[] Parameters = ["from", "to", "actor", "action", "targetId", "limit"];

    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<InputValidationFilter>().WithApiConventions("Audit");
        group.MapGet("/", GetAudit).WithName(nameof(GetAudit))
            .WithSummary("The audit log, newest first (auditor)")
            .WithDescription("Query: from, to (ISO-8601 UTC; from <= at < to), actor (a sub, client_id or agent_id), action (one of "
                + string.Join(", ", AuditActions.All) + "), targetId, limit (1 to " + AuditQuery.MaxLimit + ", default "
                + AuditQuery.DefaultLimit + "). Configuration changes, agent state changes (forced ones marked), desktop sign-in "
                + "and sign-out, transfers and refused access, with who, from where, when, the outcome and the trace id.")
            .RequireAuthorization(AccessPolicies.ReadAudit);
        return group;
    }

    public static async Task<Results<Ok<AuditRecordResponse[]>, ValidationProblem>> GetAudit(HttpRequest request, IAuditLog audit)
    {
        if (!TryRead(request.Query, out var query, out var errors))
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var records = await audit.QueryAsync(query, request.HttpContext.RequestAborted);
        return TypedResults.Ok(records.Select(AuditRecordResponse.From).ToArray());
    }

    internal static bool TryRead(IQueryCollection parameters, out AuditQuery query, out FieldErrors errors)
    {
        errors = new FieldErrors();
        errors.OnlyParameters(parameters, Parameters);

        var from = StatsRange.Time(parameters, "from", errors);
        var to = StatsRange.Time(parameters, "to", errors);
        if (from is not null && to is not null && from >= to)
        {
            errors.Add("from", "Must be before 'to'.");
        }

        var actor = Text(parameters, "actor");
        if (actor is { Length: 0 or > MaxActorLength })
        {
            errors.Add("actor", $"Must be 1 to {MaxActorLength} characters.");
        }

        var action = Text(parameters, "action");
        if (action is not null && !AuditActions.All.Contains(action, StringComparer.Ordinal))
        {
            errors.Add("action", "Must be one of " + string.Join(", ", AuditActions.All) + ".");
        }

        var target = Text(parameters, "targetId");
        if (target is not null)
        {
            errors.Id("targetId", target);
        }

        var limit = AuditQuery.DefaultLimit;
        if (Text(parameters, "limit") is { } text
            && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > AuditQuery.MaxLimit))
        {
            errors.Add("limit", $"Must be a whole number from 1 to {AuditQuery.MaxLimit}.");
        }

        query = new AuditQuery(from, to, actor, action, target, limit);
        return !errors.Any;
    }

    private static string? Text(IQueryCollection parameters, string name) =>
        parameters.TryGetValue(name, out var values) ? values.ToString() : null;
}
