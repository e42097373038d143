using System.Net;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace RoutingCluster.Client;

/// <summary>
/// Decorates the SignalR client's <see cref="IConnectionFactory"/> (the one <c>WithUrl</c> registers) so that each
/// connect, the first and every automatic reconnect alike, tries the silos' hub URLs in turn: first the one that
/// last worked, then the others in the order given, wrapping round, each at most once. A silo that refuses, fails or
/// does not answer within the attempt timeout is passed over for the next one. The endpoint the hub connection asks
/// for is ignored: the inner factory is given a <see cref="UriEndPoint"/> per silo.
/// <para>
/// A connection handed out counts as working only once the hub connection confirms it (<see cref="Confirm"/>, after
/// the SignalR handshake): a silo that accepts the transport but fails the handshake is not tried first again.
/// </para>
/// </summary>
internal sealed partial class SiloFailoverConnectionFactory : IConnectionFactory
{
    private readonly IConnectionFactory _inner;
    private readonly IReadOnlyList<Uri> _hubUrls;
    private readonly TimeSpan _attemptTimeout;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    /// <summary>The index of the silo that last worked (tried first), the first one given until one worked.</summary>
    private int _preferred;

    /// <summary>The last connection handed out: the index of its silo, and whether the hub connection confirmed it.</summary>
    private (int Used, bool Confirmed)? _last;

    public SiloFailoverConnectionFactory(IConnectionFactory inner, IReadOnlyList<Uri> hubUrls, TimeSpan attemptTimeout, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(hubUrls);
        ArgumentOutOfRangeException.ThrowIfZero(hubUrls.Count, nameof(hubUrls));
        _inner = inner;
        _hubUrls = hubUrls;
        _attemptTimeout = attemptTimeout;
        _logger = logger;
    }

    /// <summary>The hub URL tried first on the next connect.</summary>
    public Uri Preferred
    {
        get
        {
            lock (_gate)
            {
                return _hubUrls[FirstToTry()];
            }
        }
    }

    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        int first;
        lock (_gate)
        {
            first = FirstToTry();
        }

        ExceptionDispatchInfo? lastFailure = null;
        for (var tried = 0; tried < _hubUrls.Count; tried++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var index = (first + tried) % _hubUrls.Count;
            var url = _hubUrls[index];
            try
            {
                var connection = await ConnectOneAsync(url, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _last = (index, false);
                }

                return connection;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any failure of one silo (refused, reset, 404, TLS, timeout) moves on to the next.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SiloFailed(_logger, ex, url, tried + 1, _hubUrls.Count);
                lastFailure = ExceptionDispatchInfo.Capture(ex);
            }
        }

        // Every silo failed: the hub connection reports it (and its reconnect policy says when to try again).
        lastFailure!.Throw();
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// The hub connection is established (handshake done) on the connection last handed out: its silo is now the one
    /// that last worked. Answers the hub URL of the silo that worked before (at first, the first one given) and the one
    /// the connection is on (different: it failed over), or null when no connection was handed out.
    /// </summary>
    public (Uri Previous, Uri Current)? Confirm()
    {
        lock (_gate)
        {
            if (_last is not { } last)
            {
                return null;
            }

            var previous = _preferred;
            _last = last with { Confirmed = true };
            _preferred = last.Used;
            return (_hubUrls[previous], _hubUrls[last.Used]);
        }
    }

    /// <summary>The silo that last worked; after a connection that was never confirmed (its handshake failed), the
    /// one after it.</summary>
    private int FirstToTry() =>
        _last is { Confirmed: false } unconfirmed ? (unconfirmed.Used + 1) % _hubUrls.Count : _preferred;

    private async ValueTask<ConnectionContext> ConnectOneAsync(Uri url, CancellationToken cancellationToken)
    {
        if (_attemptTimeout == Timeout.InfiniteTimeSpan)
        {
            return await _inner.ConnectAsync(new UriEndPoint(url), cancellationToken).ConfigureAwait(false);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_attemptTimeout);
        try
        {
            return await _inner.ConnectAsync(new UriEndPoint(url), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No connection to {url} within {_attemptTimeout.TotalSeconds:0.###} s.", ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.DesktopSiloConnectFailed, LogLevel.Debug, "Agent desktop could not connect to {HubUrl} (silo {Tried} of {Silos} tried in this connect)")]
        public static partial void SiloFailed(ILogger logger, Exception exception, Uri hubUrl, int tried, int silos);
    }
}
