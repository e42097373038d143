using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// Hub invocations count against the caller's HTTP bucket (the same <see cref="RateLimiterOptions.GlobalLimiter"/>,
/// partitioned by the connection's token): an agent's desktop actions and its HTTP calls share one bucket per
/// <c>agent_id</c>. Beyond it an invocation fails with a <see cref="HubException"/> saying when to retry, before the hub
/// method runs (so it changes nothing).
/// </summary>
public sealed class HubRateLimitFilter(IOptions<RateLimiterOptions> options) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (options.Value.GlobalLimiter is { } limiter && invocationContext.Context.GetHttpContext() is { } http)
        {
            using var lease = limiter.AttemptAcquire(http);
            if (!lease.IsAcquired)
            {
                var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
                throw new HubException($"Too many requests: the rate limit is exceeded; retry after {seconds.ToString(CultureInfo.InvariantCulture)} s.");
            }
        }

        return await next(invocationContext);
    }
}
