using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// Answers a refused authorization: 403 as problem details naming what is missing ("needs role admin", "acts for
/// agent a-1, not a-2"); a caller without a valid token is challenged as usual (401, <see cref="RoutingAccess"/>).
/// </summary>
public sealed class AccessResultHandler(ILogger<AccessResultHandler> logger) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).Distinct().ToList() ?? [];
        var detail = reasons.Count > 0 ? string.Join("; ", reasons) : "This token may not do this.";
        AccessLog.AccessRefused(logger, context.Request.Method, RouteOf(context), AccessClaims.SubjectOf(context.User), detail);
        RecordRefusal(context, detail);
        await WriteProblemAsync(context, StatusCodes.Status403Forbidden, "Forbidden", detail);
    }

    /// <summary>Records a refused request in the audit log: the route's pattern and why, on the route's agent, queue or
    /// session id (never the path, the query or the body).</summary>
    internal static void RecordRefusal(HttpContext context, string detail)
    {
        var target = context.Request.RouteValues.TryGetValue("id", out var id) ? id as string : null;
        context.RequestServices.GetRequiredService<Audit.AuditTrail>().Record(context, context.User,
            RoutingCluster.Abstractions.Audit.AuditActions.AccessRefused, target, RoutingCluster.Abstractions.Audit.AuditOutcomes.Refused,
            detail: $"{context.Request.Method} {RouteOf(context)}: {detail}");
    }

    /// <summary>The route's pattern (<c>/v1/agents/{id}</c>), never the path itself.</summary>
    internal static string RouteOf(HttpContext context) =>
        (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.GetEndpoint()?.DisplayName ?? "(no route)";

    internal static async Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
