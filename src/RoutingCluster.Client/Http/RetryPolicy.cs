namespace RoutingCluster.Client;

/// <summary>
/// How <see cref="RoutingClient"/> retries transient failures: exponential backoff with jitter, a bounded
/// number of attempts. What counts as transient: the connection could not be made (refused, reset), the
/// answer was cut off, the attempt timed out (<see cref="RoutingClientOptions.AttemptTimeout"/>), or the
/// server answered 502, 503 or 504 (also 408 and 429). A <c>Retry-After</c> header is honoured, up to
/// <see cref="MaxDelay"/>.
/// <para>
/// Only requests that are safe to repeat are retried after they may have reached the server: GET, PUT,
/// setting an agent's state (it sets an absolute state), and <c>POST /v1/sessions</c>, which always carries an
/// <c>Idempotency-Key</c> that every retry repeats, so a retry reaches the session the first attempt created.
/// Accept, reject, end, wrap-up-done, abandon and transfer are not idempotent (a repeat answers 409, or acts
/// twice): they are retried only when the connection could not be made at all, so the server never saw the
/// request; any other failure is thrown to the caller, who should read the agent or session to learn what
/// happened.
/// </para>
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>4 attempts, 200 ms doubling up to 5 s, with jitter.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>One attempt, no retries.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included (at least 1).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The delay before the first retry, before jitter; it doubles for each further retry.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>No delay is longer than this, <c>Retry-After</c> included.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The delay before retry number <paramref name="retry"/> (1 for the first retry): the exponential delay
    /// <c>BaseDelay * 2^(retry-1)</c>, capped at <see cref="MaxDelay"/>, of which a random half is kept
    /// ("equal jitter"), so clients that failed together do not retry together. A server's
    /// <paramref name="retryAfter"/> replaces it when longer, still capped at <see cref="MaxDelay"/>.
    /// </summary>
    public TimeSpan DelayBefore(int retry, TimeSpan? retryAfter = null, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var cap = Math.Max(0, MaxDelay.TotalMilliseconds);
        var exponential = Math.Min(cap, Math.Max(0, BaseDelay.TotalMilliseconds) * Math.Pow(2, Math.Min(retry - 1, 30)));
        var jittered = (exponential / 2) + ((random ?? Random.Shared).NextDouble() * exponential / 2);
        if (retryAfter is { } after && after.TotalMilliseconds > jittered)
        {
            jittered = Math.Min(cap, after.TotalMilliseconds);
        }

        return TimeSpan.FromMilliseconds(jittered);
    }
}
