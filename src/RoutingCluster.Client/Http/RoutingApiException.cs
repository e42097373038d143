using System.Net;

namespace RoutingCluster.Client;

/// <summary>
/// The API refused a request, or failed it: the HTTP status and, when the server sent one, its problem details
/// (title, detail, field errors). Thrown by <see cref="RoutingClient"/> for every answer that is not a success,
/// after the retries the request allows.
/// </summary>
public sealed class RoutingApiException : Exception
{
    public RoutingApiException()
        : this("The routing API refused the request.")
    {
    }

    public RoutingApiException(string message)
        : base(message)
    {
    }

    public RoutingApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RoutingApiException(HttpStatusCode statusCode, RoutingProblem? problem, string? method = null, string? path = null)
        : base(Describe(statusCode, problem, method, path))
    {
        StatusCode = statusCode;
        Problem = problem;
        Method = method;
        Path = path;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem details the server answered; null when the body was not problem details.</summary>
    public RoutingProblem? Problem { get; }

    /// <summary>The request's method and path (never its body: a body may carry a customer id).</summary>
    public string? Method { get; }

    public string? Path { get; }

    public string? Title => Problem?.Title;

    public string? Detail => Problem?.Detail;

    /// <summary>Field-level validation messages, keyed by the field's JSON path (empty when there are none).</summary>
    public IReadOnlyDictionary<string, string[]> FieldErrors => Problem?.Errors ?? EmptyErrors;

    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    public bool IsConflict => StatusCode == HttpStatusCode.Conflict;

    public bool IsValidationProblem => StatusCode == HttpStatusCode.BadRequest;

    /// <summary>The queue was full: the session exists in state <c>refused</c>; retry later or route elsewhere.</summary>
    public bool IsQueueFull => Problem?.Type == RoutingProblem.QueueFullType;

    /// <summary>The cluster took no new session because it was overloaded (503, after the client's retries): nothing was
    /// created; retry later with the same idempotency key, or route elsewhere.</summary>
    public bool IsOverloaded => StatusCode == HttpStatusCode.ServiceUnavailable && Problem?.Type == RoutingProblem.OverloadedType;

    /// <summary>The idempotency key was used before for another request.</summary>
    public bool IsIdempotencyKeyReused => Problem?.Type == RoutingProblem.IdempotencyKeyReusedType;

    private static readonly IReadOnlyDictionary<string, string[]> EmptyErrors = new Dictionary<string, string[]>();

    private static string Describe(HttpStatusCode statusCode, RoutingProblem? problem, string? method, string? path)
    {
        var text = $"{(int)statusCode} {problem?.Title ?? statusCode.ToString()}";
        if (method is not null)
        {
            text = $"{method} {path}: {text}";
        }

        if (problem?.Detail is { } detail)
        {
            text += $": {detail}";
        }

        if (problem?.Errors is { Count: > 0 } errors)
        {
            text += " (" + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")) + ")";
        }

        return text;
    }
}
