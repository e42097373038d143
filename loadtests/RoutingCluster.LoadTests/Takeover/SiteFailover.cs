using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Takeover;

/// <summary>
/// What a gateway does with a list of silos across two sites: one <see cref="RoutingClient"/> per silo, each call
/// sent first to the silo that last answered, then to the others in the order given, round after round with a short
/// pause, until one answers or the time given runs out. Only calls that are safe to repeat go through here (reads,
/// PUTs, and creates, whose idempotency key every try repeats).
/// </summary>
internal sealed class SiteFailover : IDisposable
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(1);

    private readonly RoutingClient[] _clients;
    private int _preferred;

    public SiteFailover(IReadOnlyList<Uri> silos, AccessTokenSource tokens)
    {
        // One attempt per silo and call: moving on to the next silo is this class's retry.
        _clients = [.. silos.Select(s => new RoutingClient(s, new RoutingClientOptions { AccessTokens = tokens, Retry = RetryPolicy.None, AttemptTimeout = AttemptTimeout }))];
    }

    /// <summary>Runs <paramref name="call"/> on the silos in turn until one answers; a silo that cannot be reached,
    /// times out or answers 5xx, 408 or 429 is passed over. Throws the last failure once <paramref name="within"/> has
    /// passed, and any other answer at once.</summary>
    public async Task<T> CallAsync<T>(Func<RoutingClient, CancellationToken, Task<T>> call, TimeSpan within, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        for (var round = 0; ; round++)
        {
            var first = Volatile.Read(ref _preferred);
            Exception? last = null;
            for (var tried = 0; tried < _clients.Length; tried++)
            {
                var index = (first + tried) % _clients.Length;
                try
                {
                    var answer = await call(_clients[index], cancellationToken);
                    Volatile.Write(ref _preferred, index);
                    return answer;
                }
                catch (Exception ex) when (Unavailable(ex) && !cancellationToken.IsCancellationRequested)
                {
                    last = ex;
                }
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw last!;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(MaxPause.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(round, 10)))), cancellationToken);
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private static bool Unavailable(Exception ex) => ex switch
    {
        HttpRequestException or TimeoutException or IOException or TaskCanceledException => true,
        RoutingApiException api => (int)api.StatusCode >= 500 || (int)api.StatusCode is 408 or 429,
        _ => false,
    };
}

/// <summary>
/// Tokens from the dev issuer (<c>POST /auth/dev-token</c>) of whichever silo answers, the one that last did first.
/// Every silo of both sites signs with one key, so a token from a silo of site A is good at site B; a cached token is
/// given again without asking anyone, a fresh one from the first silo that issues it.
/// </summary>
internal sealed class FailoverTokenSource(IReadOnlyList<AccessTokenSource> sources) : AccessTokenSource
{
    private int _preferred;

    public override async ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken)
    {
        var first = Volatile.Read(ref _preferred);
        Exception? last = null;
        for (var tried = 0; tried < sources.Count; tried++)
        {
            var index = (first + tried) % sources.Count;
            try
            {
                var token = await sources[index].GetTokenAsync(request, cancellationToken);
                Volatile.Write(ref _preferred, index);
                return token;
            }
            catch (HttpRequestException ex)
            {
                last = ex;
            }
        }

        throw new HttpRequestException("No silo issued a token.", last);
    }
}
