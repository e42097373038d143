using System.Collections.Concurrent;
using System.Net;

namespace RoutingCluster.Client.Tests;

/// <summary>How a simulated failure looks to the client.</summary>
public enum Fault
{
    /// <summary>The server processed the request, then the connection broke before the answer arrived.</summary>
    AnswerLost,

    /// <summary>The server processed the request, but a proxy in front of it answered 503.</summary>
    ServiceUnavailable,

    /// <summary>The connection could not be made: the server never saw the request.</summary>
    ConnectionRefused,
}

/// <summary>
/// Sits between the client and the real server. For the first <c>failures</c> requests that match, it simulates
/// <see cref="Fault"/>; <see cref="Fault.AnswerLost"/> and <see cref="Fault.ServiceUnavailable"/> pass the request
/// to the server first, so the server has acted on it. Records every matching request it saw.
/// </summary>
public sealed class FaultInjectingHandler(Func<HttpRequestMessage, bool> matches, Fault fault, int failures = 1) : DelegatingHandler
{
    private int _remaining = failures;

    public ConcurrentQueue<(HttpMethod Method, string Path, string? IdempotencyKey)> Seen { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!matches(request))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        Seen.Enqueue((request.Method, request.RequestUri!.AbsolutePath, request.Headers.TryGetValues(RoutingClient.IdempotencyKeyHeader, out var keys) ? keys.Single() : null));
        if (Interlocked.Decrement(ref _remaining) < 0)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        if (fault == Fault.ConnectionRefused)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (simulated).");
        }

        using var processed = await base.SendAsync(request, cancellationToken);
        await processed.Content.LoadIntoBufferAsync(cancellationToken);
        if (fault == Fault.AnswerLost)
        {
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely (simulated).");
        }

        return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
    }
}
