using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RoutingCluster.Client;

/// <summary>
/// An agent desktop's live connection to the agent hub (<c>/hubs/agent</c>, SignalR): signs in as one agent,
/// receives offers and agent changes as they happen, and answers them.
/// <para>
/// Events are raised one at a time, in the order the server sent them, on a loop of the client's own (not on
/// SignalR's receive loop), so a handler may await this client's methods, for example accept the offer it was
/// given. An exception thrown by a handler is logged and does not stop the others.
/// </para>
/// <para>
/// The connection reconnects by itself (<see cref="AgentDesktopOptions.ReconnectPolicy"/>). After a reconnect the
/// client signs in again as the same agent, then raises <see cref="Reconnected"/> with the agent's view, which
/// lists any offer still pending (the server keeps offers while a desktop is briefly away). Actions called while
/// it reconnects fail; actions called while it signs in again wait for the sign-in.
/// </para>
/// <para>
/// Given several silos' addresses, the client fails over between them by itself: the first connect and every
/// reconnect try them in turn, first the one that last worked, moving on when one refuses, fails or does not answer
/// within <see cref="AgentDesktopOptions.SiloConnectTimeout"/>. After a reconnect on another silo it signs in again
/// as the same agent (agents are cluster-wide, so the agent's offers then reach this client through the new silo).
/// <see cref="CurrentAddress"/> says which silo it is on; <see cref="FailedOver"/> is raised (and logged at
/// Information) when it connected to another silo than the one that last worked.
/// </para>
/// Agent actions answer an <see cref="AgentActionResult"/> (200, 404 or 409 with a detail) rather than throwing:
/// an offer that expired or was withdrawn is an everyday outcome. They are not retried (not idempotent).
/// Invalid arguments and calls before signing in fail with a <see cref="HubException"/>.
/// </summary>
public sealed partial class AgentDesktopClient : IAsyncDisposable
{
    public const string HubPath = "hubs/agent";

    private readonly HubConnection _connection;
    private readonly SiloFailoverConnectionFactory _silos;
    private readonly Dictionary<Uri, Uri> _baseAddressByHubUrl = [];
    private readonly AgentDesktopOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Func<Task>> _events = System.Threading.Channels.Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _eventLoop;
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private static readonly AsyncLocal<AgentDesktopClient?> Dispatching = new();
    private volatile string? _agentId;
    private volatile string? _tokenAgentId;
    private volatile bool _refreshToken;
    private volatile Task _signedIn = Task.CompletedTask;
    private volatile Uri? _currentAddress;
    private int _disposed;

    /// <summary>A client for the hub at <paramref name="baseAddress"/> + <c>hubs/agent</c>. Nothing connects until
    /// <see cref="SignInAsync"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="baseAddress"/> is not an absolute http or https URI.</exception>
    public AgentDesktopClient(Uri baseAddress, AgentDesktopOptions? options = null)
        : this([baseAddress ?? throw new ArgumentNullException(nameof(baseAddress))], options)
    {
    }

    /// <summary>
    /// A client for the agent hub (<c>hubs/agent</c>) of several silos of one cluster, which fails over between them:
    /// each connect tries them in turn, first the one that last worked (at first, the first one given), moving on
    /// when one refuses or fails. Nothing connects until <see cref="SignInAsync"/>.
    /// </summary>
    /// <param name="baseAddresses">The silos' base addresses (absolute http or https URIs, e.g.
    /// <c>http://10.0.0.11:5000/</c>), at least one, no two the same.</param>
    /// <param name="options">Settings; the defaults when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="baseAddresses"/> is null.</exception>
    /// <exception cref="ArgumentException">The list is empty, holds a null, a relative or non-http(s) URI, or the same
    /// silo twice.</exception>
    public AgentDesktopClient(IReadOnlyList<Uri> baseAddresses, AgentDesktopOptions? options = null)
    {
        var addresses = ValidateAddresses(baseAddresses);
        _options = options ?? new AgentDesktopOptions();
        if (_options.SiloConnectTimeout <= TimeSpan.Zero && _options.SiloConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.SiloConnectTimeout, "AgentDesktopOptions.SiloConnectTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }

        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AgentDesktopClient>();
        BaseAddresses = Array.AsReadOnly(addresses);
        var hubUrls = addresses.Select(HubUrl).ToArray();
        for (var i = 0; i < hubUrls.Length; i++)
        {
            _baseAddressByHubUrl[hubUrls[i]] = addresses[i];
        }

        var builder = new HubConnectionBuilder()
            .WithUrl(hubUrls[0], http =>
            {
                _options.ConfigureConnection?.Invoke(http);
                if (_options.AccessTokens is { } tokens)
                {
                    http.AccessTokenProvider = () => TokenAsync(tokens);
                }
            })
            .WithAutomaticReconnect(_options.ReconnectPolicy ?? new KeepTryingPolicy())
            .AddJsonProtocol(json => RoutingJson.Configure(json.PayloadSerializerOptions));
        if (_options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        // Failover through SignalR's own extension point: the connection factory WithUrl registered is decorated so
        // that every connect (start and automatic reconnects) picks the silo. The inner factory is given the silo's
        // hub URL with each connect, so the options carry none (it refuses an endpoint other than the options' URL).
        builder.Services.PostConfigure<HttpConnectionOptions>(http => http.Url = null);
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(hubUrls[0]));
        var registered = builder.Services.LastOrDefault(d => d.ServiceType == typeof(IConnectionFactory))
            ?? throw new InvalidOperationException("WithUrl registered no IConnectionFactory.");
        builder.Services.RemoveAll<IConnectionFactory>();
        SiloFailoverConnectionFactory? silos = null;
        builder.Services.AddSingleton<IConnectionFactory>(services =>
            silos = new SiloFailoverConnectionFactory(Create(services, registered), hubUrls, _options.SiloConnectTimeout, _logger));

        _connection = builder.Build();
        _silos = silos ?? throw new InvalidOperationException("The hub connection did not take its connection factory.");
        _connection.On<OfferNotice, AgentView>("offer", (offer, agent) => Raise(OfferReceived, h => h(offer, agent)));
        _connection.On<string, AgentView>("offerWithdrawn", (sessionId, agent) => Raise(OfferWithdrawn, h => h(sessionId, agent)));
        _connection.On<string, AgentView>("offerExpired", (sessionId, agent) => Raise(OfferExpired, h => h(sessionId, agent)));
        _connection.On<AgentView>("agentChanged", agent => Raise(AgentChanged, h => h(agent)));
        _connection.Reconnecting += OnReconnecting;
        _connection.Reconnected += OnReconnected;
        _connection.Closed += OnClosed;
        _eventLoop = Task.Run(RunEventLoopAsync);
    }

    /// <summary>A new offer: the session (channel, queue, the customer's segments, waited time, expiry) and the
    /// agent as it is now.</summary>
    public event Func<OfferNotice, AgentView, Task>? OfferReceived;

    /// <summary>The customer left before the agent answered: the session id and the agent as it is now.</summary>
    public event Func<string, AgentView, Task>? OfferWithdrawn;

    /// <summary>The agent did not answer in time (and is now not-ready, reason <c>missed-offer</c>).</summary>
    public event Func<string, AgentView, Task>? OfferExpired;

    /// <summary>State, sessions held, offers or profile changed; also sent when the desktop is registered again with the
    /// agent after the agent moved to another silo (its view lists any offer made meanwhile).</summary>
    public event Func<AgentView, Task>? AgentChanged;

    /// <summary>The connection dropped; the client is trying to reconnect.</summary>
    public event Func<Exception?, Task>? Reconnecting;

    /// <summary>The connection is back and the client signed in again: the agent as it is now.</summary>
    public event Func<AgentView, Task>? Reconnected;

    /// <summary>The client reconnected but could not sign in again (the agent was removed, or the connection
    /// dropped again meanwhile).</summary>
    public event Func<Exception, Task>? SignInFailed;

    /// <summary>The client connected to another silo than the one that last worked (at first: than the first address
    /// given), which refused or failed: that silo's base address, then the one now in use (<see cref="CurrentAddress"/>).
    /// Raised on a reconnect before the client signs in again there (<see cref="Reconnected"/> follows), and on the
    /// first connect. Also logged at Information.</summary>
    public event Func<Uri, Uri, Task>? FailedOver;

    /// <summary>The connection closed for good (reconnecting gave up, or the client was disposed).</summary>
    public event Func<Exception?, Task>? Closed;

    /// <summary>The agent this client signed in as (null before <see cref="SignInAsync"/>).</summary>
    public string? AgentId => _agentId;

    public HubConnectionState ConnectionState => _connection.State;

    /// <summary>The silos' base addresses, in the order given.</summary>
    public IReadOnlyList<Uri> BaseAddresses { get; }

    /// <summary>The base address of the silo the client is connected to (while it reconnects: the one it was on);
    /// null until it first connected.</summary>
    public Uri? CurrentAddress => _currentAddress;

    /// <summary>
    /// Connects (retrying a refused connection, <see cref="AgentDesktopOptions.StartRetry"/>) and signs in as
    /// <paramref name="agentId"/>: from then on the agent's offers and changes are pushed to this client. Answers
    /// the agent's view, with any offer already pending.
    /// </summary>
    /// <exception cref="HubException">The agent does not exist, or the id is not valid.</exception>
    public async Task<AgentView> SignInAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _tokenAgentId = agentId;
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var signIn = _connection.InvokeAsync<AgentView>("SignIn", agentId, cancellationToken);
        _signedIn = signIn;
        var view = await signIn.ConfigureAwait(false);
        _agentId = agentId;
        return view;
    }

    /// <summary>Sets the agent ready, not-ready (with a reason code: break, training, ...) or logged-out (409 while
    /// holding sessions or offers).</summary>
    public Task<AgentActionResult> SetStateAsync(AgentState state, string? reason = null, CancellationToken cancellationToken = default) =>
        ActAsync("SetState", [WireName(state), reason], cancellationToken);

    /// <summary>Accepts a pending offer (409 when it expired or was withdrawn).</summary>
    public Task<AgentActionResult> AcceptAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ActAsync("Accept", [sessionId], cancellationToken);

    /// <summary>Rejects a pending offer: the session goes back to its queue at its original place.</summary>
    public Task<AgentActionResult> RejectAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ActAsync("Reject", [sessionId], cancellationToken);

    /// <summary>Ends a connected session: wrap-up starts.</summary>
    public Task<AgentActionResult> EndAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ActAsync("End", [sessionId], cancellationToken);

    /// <summary>Ends wrap-up early: the session completes and the agent may be offered the next one.</summary>
    public Task<AgentActionResult> WrapUpDoneAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ActAsync("WrapUpDone", [sessionId], cancellationToken);

    /// <summary>The signed-in agent as it is now (null if it no longer exists).</summary>
    public async Task<AgentView?> GetAgentAsync(CancellationToken cancellationToken = default)
    {
        await _signedIn.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InvokeAsync<AgentView?>("GetAgent", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection (the server keeps the agent as it is for a grace period, then sets it
    /// not-ready) and stops raising events.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _events.Writer.TryComplete();

            // Called from one of this client's own handlers, the loop is busy with that very handler: it ends by
            // itself once the handler returns.
            if (Dispatching.Value != this)
            {
                await _eventLoop.ConfigureAwait(false);
            }
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var maxAttempts = Math.Max(1, _options.StartRetry.MaxAttempts);
            var refreshed = false;
            for (var attempt = 1; _connection.State == HubConnectionState.Disconnected; attempt++)
            {
                try
                {
                    await _connection.StartAsync(cancellationToken).ConfigureAwait(false);
                    OnConnected();
                }
                catch (HttpRequestException ex) when (ex.StatusCode == HttpStatusCode.Unauthorized && _options.AccessTokens is not null && !refreshed)
                {
                    // Refused token: once more at once with a fresh one.
                    refreshed = true;
                    _refreshToken = true;
                    attempt--;
                }
                catch (HttpRequestException ex) when (attempt < maxAttempts && Transient.IsTransient(ex))
                {
                    await Task.Delay(_options.StartRetry.DelayBefore(attempt), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _startLock.Release();
        }
    }

    private async Task<AgentActionResult> ActAsync(string method, object?[] args, CancellationToken cancellationToken)
    {
        await _signedIn.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InvokeCoreAsync<AgentActionResult>(method, args, cancellationToken).ConfigureAwait(false);
    }

    private static string WireName(AgentState state) =>
        Enum.IsDefined(state) ? WireNames<AgentState>.Of(state) : throw new ArgumentOutOfRangeException(nameof(state), state, null);

    /// <summary>The token for the next connect: the agent's, and a fresh one after the connection was lost (the server
    /// closes it when its token expires, and a refused token must not be offered again).</summary>
    private async Task<string?> TokenAsync(AccessTokenSource tokens)
    {
        var refresh = _refreshToken;
        _refreshToken = false;
        return await tokens.GetTokenAsync(new AccessTokenRequest(_tokenAgentId, refresh), CancellationToken.None).ConfigureAwait(false);
    }

    private Task OnReconnecting(Exception? exception)
    {
        _refreshToken = true;
        Raise(Reconnecting, h => h(exception));
        return Task.CompletedTask;
    }

    private Task OnReconnected(string? connectionId)
    {
        OnConnected();
        if (_agentId is { } agentId)
        {
            // Not awaited here: the hub connection raises this event on its reconnect path. Actions await it; a
            // failure is also reported through SignInFailed, so it is observed here to keep it from going unnoticed.
            var signIn = SignInAgainAsync(agentId);
            _ = signIn.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _signedIn = signIn;
        }

        return Task.CompletedTask;
    }

    private async Task SignInAgainAsync(string agentId)
    {
        try
        {
            var view = await _connection.InvokeAsync<AgentView>("SignIn", agentId).ConfigureAwait(false);
            Raise(Reconnected, h => h(view));
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException or OperationCanceledException)
        {
            Log.SignInAgainFailed(_logger, ex, agentId);
            Raise(SignInFailed, h => h(ex));
            throw;
        }
    }

    /// <summary>The hub connection is up (handshake done): notes the silo it is on, and reports a failover.</summary>
    private void OnConnected()
    {
        if (_silos.Confirm() is not { } connected)
        {
            return;
        }

        var (previousHubUrl, currentHubUrl) = connected;
        var current = _baseAddressByHubUrl[currentHubUrl];
        _currentAddress = current;
        if (previousHubUrl != currentHubUrl)
        {
            var previous = _baseAddressByHubUrl[previousHubUrl];
            Log.FailedOver(_logger, previous, current, _agentId);
            Raise(FailedOver, h => h(previous, current));
        }
    }

    /// <summary>The hub URL of a silo: its base address (with a trailing slash added) + <see cref="HubPath"/>.</summary>
    private static Uri HubUrl(Uri baseAddress) =>
        new(new Uri(baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress.AbsoluteUri : baseAddress.AbsoluteUri + "/"), HubPath);

    private static Uri[] ValidateAddresses(IReadOnlyList<Uri> baseAddresses)
    {
        ArgumentNullException.ThrowIfNull(baseAddresses);
        if (baseAddresses.Count == 0)
        {
            throw new ArgumentException("Give at least one silo base address.", nameof(baseAddresses));
        }

        var addresses = baseAddresses.ToArray();
        var seen = new Dictionary<Uri, int>();
        for (var i = 0; i < addresses.Length; i++)
        {
            var address = addresses[i] ?? throw new ArgumentException($"Silo base address [{i}] is null.", nameof(baseAddresses));
            if (!address.IsAbsoluteUri)
            {
                throw new ArgumentException($"Silo base address [{i}] '{address}' is not an absolute URI (e.g. http://10.0.0.11:5000/).", nameof(baseAddresses));
            }

            if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
            {
                throw new ArgumentException($"Silo base address [{i}] '{address}' must be http or https, not '{address.Scheme}'.", nameof(baseAddresses));
            }

            if (!seen.TryAdd(HubUrl(address), i))
            {
                throw new ArgumentException($"Silo base address [{i}] '{address}' is the same as [{seen[HubUrl(address)]}]: give each silo once.", nameof(baseAddresses));
            }
        }

        return addresses;
    }

    /// <summary>The service a descriptor registered, as the container would have built it.</summary>
    private static IConnectionFactory Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        (IConnectionFactory)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));

    private Task OnClosed(Exception? exception)
    {
        Raise(Closed, h => h(exception));
        return Task.CompletedTask;
    }

    /// <summary>Queues the handlers of one event for the event loop (in order; never on SignalR's receive loop).</summary>
    private void Raise<THandler>(THandler? handlers, Func<THandler, Task> invoke)
        where THandler : Delegate
    {
        if (handlers is null)
        {
            return;
        }

        _events.Writer.TryWrite(async () =>
        {
            foreach (var handler in handlers.GetInvocationList().Cast<THandler>())
            {
                try
                {
                    await invoke(handler).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A desktop's handler must not stop the others, nor the event loop.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.HandlerFailed(_logger, ex, _agentId);
                }
            }
        });
    }

    private async Task RunEventLoopAsync()
    {
        Dispatching.Value = this;
        await foreach (var raise in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await raise().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.DesktopHandlerFailed, LogLevel.Error, "An agent desktop event handler failed (agent {AgentId})")]
        public static partial void HandlerFailed(ILogger logger, Exception exception, string? agentId);

        [LoggerMessage(LogEventIds.DesktopSignInAgainFailed, LogLevel.Warning, "Could not sign in again after reconnecting (agent {AgentId})")]
        public static partial void SignInAgainFailed(ILogger logger, Exception exception, string agentId);

        [LoggerMessage(LogEventIds.DesktopFailedOver, LogLevel.Information, "Agent desktop failed over from silo {FromAddress} to silo {ToAddress} (agent {AgentId})")]
        public static partial void FailedOver(ILogger logger, Uri fromAddress, Uri toAddress, string? agentId);
    }
}
