using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace RoutingCluster.Client;

/// <summary>Settings of an <see cref="AgentDesktopClient"/>.</summary>
public sealed record AgentDesktopOptions
{
    /// <summary>When to try again after the connection dropped. Default: at once, then after 1, 2, 5 and 10 s, then
    /// every 10 s for as long as the client lives (an agent desktop should not give up).</summary>
    public IRetryPolicy? ReconnectPolicy { get; init; }

    /// <summary>Retries of the first connection (refused, unreachable) in <see cref="AgentDesktopClient.SignInAsync"/>.</summary>
    public RetryPolicy StartRetry { get; init; } = RetryPolicy.Default;

    /// <summary>How long one connect to one silo may take (negotiation and transport) before the client moves on to the
    /// next silo given (with a single silo: before the attempt fails and the reconnect policy decides). Default 10 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan SiloConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>More transport settings (headers, an access token, a test server's handler). Its <c>Url</c> is not
    /// used: the client sets each silo's hub URL itself.</summary>
    public Action<HttpConnectionOptions>? ConfigureConnection { get; init; }

    /// <summary>Where the connection's bearer token comes from: asked for the agent that signs in
    /// (<see cref="AccessTokenRequest.AgentId"/>) at each connect, and for a fresh one after the connection was lost.
    /// Null: no token (a host refuses the connection).</summary>
    public AccessTokenSource? AccessTokens { get; init; }

    /// <summary>Logging for the connection and for exceptions thrown by event handlers.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}

/// <summary>The default reconnect schedule: 0, 1, 2, 5, 10 s, then every 10 s, never giving up.</summary>
internal sealed class KeepTryingPolicy : IRetryPolicy
{
    private static readonly TimeSpan[] Delays = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)];

    public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
        Delays[(int)Math.Min(retryContext.PreviousRetryCount, Delays.Length - 1)];
}
