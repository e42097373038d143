using RoutingCluster.Abstractions.Common;

namespace RoutingCluster.SiloHost.Api;

/// <summary>RFC 9457 problem details for the answers that are not validation problems.</summary>
internal static class Problems
{
    public const string QueueFullType = "urn:routing-cluster:problem:queue-full";
    public const string IdempotencyKeyReusedType = "urn:routing-cluster:problem:idempotency-key-reused";
    public const string OverloadedType = "urn:routing-cluster:problem:overloaded";

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult Conflict(string? detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not allowed in the current state", detail: detail);

    /// <summary>The problem for an outcome that is not <see cref="OutcomeCode.Ok"/>.</summary>
    public static ProblemHttpResult From(Outcome outcome) => outcome.Code switch
    {
        OutcomeCode.NotFound => NotFound(outcome.Detail ?? "Not found."),
        _ => Conflict(outcome.Detail),
    };

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
