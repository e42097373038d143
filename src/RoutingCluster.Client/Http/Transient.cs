using System.Net;
using System.Net.Sockets;

namespace RoutingCluster.Client;

/// <summary>What <see cref="RoutingClient"/> treats as a transient failure (see <see cref="RetryPolicy"/>).</summary>
internal static class Transient
{
    /// <summary>Answers worth another attempt: the server or a proxy in front of it could not serve the
    /// request now (a silo unavailable or the cluster not answering in time is a 503).</summary>
    public static bool IsTransient(HttpStatusCode status) => status is
        HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
        or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>Transport failures worth another attempt: no connection, or the connection broke.</summary>
    public static bool IsTransient(HttpRequestException exception) => exception.HttpRequestError switch
    {
        HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded => true,
        HttpRequestError.Unknown => exception.InnerException is IOException or SocketException,
        _ => false,
    };

    /// <summary>
    /// True only when the request certainly never reached the server: the connection itself could not be made
    /// (refused, unreachable). Only then is a request that is not idempotent retried.
    /// </summary>
    public static bool NeverSent(HttpRequestException exception) =>
        exception.HttpRequestError == HttpRequestError.ConnectionError
        || exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable };

    /// <summary>The server's <c>Retry-After</c>, as a delay.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - time.GetUtcNow() : null;
    }
}
