using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
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
/// Agent actions answer an <see cref="AgentActionResult"/> (200, 404 or 409 with a detail) rather than throwing:
/// an offer that expired or was withdrawn is an everyday outcome. They are not retried (not idempotent).
/// Invalid arguments and calls before signing in fail with a <see cref="HubException"/>.
/// </summary>
public sealed partial class AgentDesktopClient : IAsyncDisposable
{
    public const string HubPath = "hubs/agent";

    private readonly HubConnection _connection;
    private readonly AgentDesktopOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Func<Task>> _events = System.Threading.Channels.Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _eventLoop;
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private static readonly AsyncLocal<AgentDesktopClient?> Dispatching = new();
    private volatile string? _agentId;
    private volatile Task _signedIn = Task.CompletedTask;
    private int _disposed;

    /// <summary>A client for the hub at <paramref name="baseAddress"/> + <c>hubs/agent</c>. Nothing connects until
    /// <see cref="SignInAsync"/>.</summary>
    public AgentDesktopClient(Uri baseAddress, AgentDesktopOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        _options = options ?? new AgentDesktopOptions();
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AgentDesktopClient>();
        var hubUrl = new Uri(new Uri(baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress.AbsoluteUri : baseAddress.AbsoluteUri + "/"), HubPath);

        var builder = new HubConnectionBuilder()
            .WithUrl(hubUrl, http => _options.ConfigureConnection?.Invoke(http))
            .WithAutomaticReconnect(_options.ReconnectPolicy ?? new KeepTryingPolicy())
            .AddJsonProtocol(json => RoutingJson.Configure(json.PayloadSerializerOptions));
        if (_options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        _connection = builder.Build();
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

    /// <summary>State, sessions held or profile changed.</summary>
    public event Func<AgentView, Task>? AgentChanged;

    /// <summary>The connection dropped; the client is trying to reconnect.</summary>
    public event Func<Exception?, Task>? Reconnecting;

    /// <summary>The connection is back and the client signed in again: the agent as it is now.</summary>
    public event Func<AgentView, Task>? Reconnected;

    /// <summary>The client reconnected but could not sign in again (the agent was removed, or the connection
    /// dropped again meanwhile).</summary>
    public event Func<Exception, Task>? SignInFailed;

    /// <summary>The connection closed for good (reconnecting gave up, or the client was disposed).</summary>
    public event Func<Exception?, Task>? Closed;

    /// <summary>The agent this client signed in as (null before <see cref="SignInAsync"/>).</summary>
    public string? AgentId => _agentId;

    public HubConnectionState ConnectionState => _connection.State;

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
            for (var attempt = 1; _connection.State == HubConnectionState.Disconnected; attempt++)
            {
                try
                {
                    await _connection.StartAsync(cancellationToken).ConfigureAwait(false);
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

    private static string WireName(AgentState state) => state switch
    {
        AgentState.Ready => "ready",
        AgentState.NotReady => "not-ready",
        AgentState.LoggedOut => "logged-out",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private Task OnReconnecting(Exception? exception)
    {
        Raise(Reconnecting, h => h(exception));
        return Task.CompletedTask;
    }

    private Task OnReconnected(string? connectionId)
    {
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
        [LoggerMessage(1, LogLevel.Error, "An agent desktop event handler failed (agent {AgentId})")]
        public static partial void HandlerFailed(ILogger logger, Exception exception, string? agentId);

        [LoggerMessage(2, LogLevel.Warning, "Could not sign in again after reconnecting (agent {AgentId})")]
        public static partial void SignInAgainFailed(ILogger logger, Exception exception, string agentId);
    }
}
