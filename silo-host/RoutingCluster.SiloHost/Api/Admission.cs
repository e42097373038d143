using System.Globalization;

namespace RoutingCluster.SiloHost.Api;

/// <summary>The answer to a create that admission refused (<see cref="Hosting.SessionAdmission"/>).</summary>
internal static class Admission
{
    /// <summary>503 problem details (type …:overloaded) with <c>Retry-After</c>; nothing was created.</summary>
    public static ProblemHttpResult Overloaded(HttpContext http, int retryAfterSeconds)
    {
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            type: Problems.OverloadedType,
            title: "Overloaded",
            detail: $"The cluster takes no new session now. Nothing was created: retry after {retryAfterSeconds} s with the same Idempotency-Key.",
            extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = retryAfterSeconds });
    }
}
