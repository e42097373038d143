namespace RoutingCluster.Client;

/// <summary>Settings of a <see cref="RoutingClient"/>.</summary>
public sealed record RoutingClientOptions
{
    /// <summary>The API's base address (<c>http://127.0.0.1:5000/</c>). Null: the HttpClient's
    /// <see cref="HttpClient.BaseAddress"/>, which must then be set.</summary>
    public Uri? BaseAddress { get; init; }

    /// <summary>Which failures are retried, and how (see <see cref="RetryPolicy"/> for what is safe to retry).</summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>How long one attempt may take before it counts as a transient failure (for an event stream: until
    /// its headers arrive). The caller's <see cref="CancellationToken"/> bounds the whole call, retries included.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where bearer tokens come from (<see cref="AccessTokenSource"/>); null sends none. After a 401 the
    /// client asks for a fresh token once and repeats the request.</summary>
    public AccessTokenSource? AccessTokens { get; init; }

    /// <summary>The clock the backoff delays run on (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
