using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Agents;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>
/// This silo's relay between agent grains and the agent desktops connected to this silo. It is registered with
/// each agent grain whose desktop signs in here (an Orleans observer), so the grain pushes updates straight to
/// it from whichever silo hosts the grain; the relay forwards them to the agent's SignalR connections.
/// </summary>
/// <remarks>
/// <para>
/// An agent grain keeps the relays of its desktops in memory only, so a new activation of it (on another silo)
/// knows no desktop until the relays register again. The relay does so:
/// </para>
/// <list type="bullet">
/// <item>at once when an agent grain says it is deactivating (its silo stops gracefully);</item>
/// <item>when a silo is declared dead in the cluster membership (killed, crashed, cut off: no grain on it said
/// anything). The relay cannot know which agents' grains were on that silo, so it registers every connection it
/// holds again, <see cref="MaxConcurrentRegistrations"/> at a time. The cost, per silo death and per surviving
/// silo: one grain call per desktop connected to this silo. For an agent whose grain did not move the call only
/// refreshes a dictionary entry in an activation its desktops keep alive anyway; for one whose grain was on the
/// dead silo it activates the grain again (one state read) and pushes the agent's view to the desktop, with any
/// offer made meanwhile. The calls that fail (the grain directory has not caught up yet) are tried again a few
/// times, <see cref="RetryDelay"/> apart, and after that at the next silo death or renewal;</item>
/// <item>periodically (<see cref="AgentOptions.DesktopRenewInterval"/>, 60 s), as a backstop, which also keeps the
/// agent grains active.</item>
/// </list>
/// </remarks>
public sealed class AgentDesktopRelay(
    IGrainFactory grains,
    RoutingGrains routing,
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IHubContext<AgentHub> hub,
    RoutingClock clock,
    IOptions<AgentOptions> options,
    ILogger<AgentDesktopRelay> logger)
    : IAgentDesktopObserver, IHostedService, IDisposable
{
    /// <summary>At most this many registrations in flight when every connection is registered again.</summary>
    public const int MaxConcurrentRegistrations = 32;

    /// <summary>Attempts to register a desktop connection with its agent's grain while a silo stops (200 ms more
    /// between each, 3 s in all).</summary>
    private const int RegisterAttempts = 6;

    /// <summary>Rounds of registering again after a silo death: the first, then retries of what failed.</summary>
    private const int RegisterAgainRounds = 4;

    /// <summary>The wait before retrying what failed in a round (times the round number).</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, string> _agentByConnection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _connectionsByAgent = new(StringComparer.Ordinal);
    private readonly object _referenceLock = new();
    private readonly DesktopOutbox _outbox = new(hub, clock);

    /// <summary>A silo died: register every connection again. One pending request at most (requests coalesce).</summary>
    private readonly Channel<bool> _registerAll = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly CancellationTokenSource _stopping = new();
    private IAgentDesktopObserver? _reference;
    private PeriodicTimer? _renewTimer;
    private Task[] _loops = [];
    private int _disposed;

    /// <summary>The observer reference agent grains call (created once the silo runs).</summary>
    public IAgentDesktopObserver Reference
    {
        get
        {
            lock (_referenceLock)
            {
                return _reference ??= grains.CreateObjectReference<IAgentDesktopObserver>(this);
            }
        }
    }

    /// <summary>Registers a connection of an agent with its grain; returns the agent's current view (null: no such agent).</summary>
    public async Task<AgentView?> ConnectAsync(string agentId, string connectionId)
    {
        var view = await RegisterAsync(agentId, connectionId, stillWanted: () => true);
        if (view is null)
        {
            await routing.Agent(agentId).DesktopDisconnectedAsync(connectionId);
            return null;
        }

        if (_agentByConnection.TryGetValue(connectionId, out var previous) && previous != agentId)
        {
            await DisconnectAsync(connectionId);
        }

        _agentByConnection[connectionId] = agentId;
        _connectionsByAgent.GetOrAdd(agentId, _ => new(StringComparer.Ordinal))[connectionId] = true;
        return view;
    }

    public string? AgentOf(string connectionId) => _agentByConnection.GetValueOrDefault(connectionId);

    /// <summary>How many desktop connections of <paramref name="agentId"/> are signed in on this silo, not counting
    /// <paramref name="except"/>.</summary>
    public int ConnectionsOf(string agentId, string except) =>
        _connectionsByAgent.TryGetValue(agentId, out var connections) ? connections.Keys.Count(c => c != except) : 0;

    public async Task DisconnectAsync(string connectionId)
    {
        if (!_agentByConnection.TryRemove(connectionId, out var agentId))
        {
            return;
        }

        if (_connectionsByAgent.TryGetValue(agentId, out var connections))
        {
            connections.TryRemove(connectionId, out _);
        }

        await routing.Agent(agentId).DesktopDisconnectedAsync(connectionId);
    }

    /// <summary>Hands the update to the outbox and returns at once: the relay's calls run one at a time, so waiting
    /// for the send here would hold every other desktop of this silo behind this one (see <see cref="DesktopOutbox"/>).</summary>
    public Task OnAgentUpdateAsync(AgentUpdate update)
    {
        if (_connectionsByAgent.TryGetValue(update.AgentId, out var connections) && !connections.IsEmpty)
        {
            _outbox.Post(update, [.. connections.Keys]);
        }

        return Task.CompletedTask;
    }

    /// <summary>Updates dropped by the outbox (see <see cref="DesktopOutbox"/>).</summary>
    public long PushesDropped => _outbox.Dropped;

    public Task<DateTimeOffset?> OfferShownAtAsync(string agentId, string sessionId) => Task.FromResult(_outbox.ShownAt(agentId, sessionId));

    public Task OnAgentDeactivatingAsync(string agentId)
    {
        if (_connectionsByAgent.TryGetValue(agentId, out var connections) && !connections.IsEmpty)
        {
            // Beside this call: the agent's next activation answers only once the deactivating one is gone.
            _ = Task.Run(() => RegisterAgainAsync(agentId, [.. connections.Keys]));
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var stopping = _stopping.Token;
        _renewTimer = new PeriodicTimer(options.Value.DesktopRenewInterval);
        _loops =
        [
            RenewLoopAsync(_renewTimer, stopping),
            WatchMembershipAsync(stopping),
            RegisterAllLoopAsync(stopping),
        ];
        return Task.CompletedTask;
    }

    /// <summary>Stops the renewal and the registrations in flight; waits for them at most until
    /// <paramref name="cancellationToken"/> (the host's shutdown timeout) is cancelled.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _renewTimer?.Dispose();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loops end on their own (their calls time out); the host does not wait for them any longer.
        }
    }

    /// <remarks>Called twice: the container disposes the relay both as itself and as the hosted service it is.</remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _renewTimer?.Dispose();
        _stopping.Dispose();
    }

    private async Task RegisterAgainAsync(string agentId, string[] connectionIds)
    {
        foreach (var connectionId in connectionIds)
        {
            try
            {
                await RegisterAsync(agentId, connectionId, stillWanted: () => _agentByConnection.GetValueOrDefault(connectionId) == agentId).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                HubLog.RegisterAgainFailed(logger, ex, agentId);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException)
            {
                return; // this silo is stopping
            }
        }
    }

    /// <summary>
    /// Registers a connection with the agent's grain. While a silo stops, a call may still be routed to it and be
    /// refused ("shutting down", <see cref="SiloUnavailableException"/>) for the grain it is giving up: that is tried
    /// again a few times (200 ms more between each), and a moment later reaches a new activation on a silo that runs.
    /// </summary>
    private async Task<AgentView?> RegisterAsync(string agentId, string connectionId, Func<bool> stillWanted, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await routing.Agent(agentId).DesktopConnectedAsync(connectionId, Reference).ConfigureAwait(false);
            }
            catch (SiloUnavailableException) when (attempt < RegisterAttempts && stillWanted())
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Follows the cluster membership: a silo other than this one newly declared dead asks for every
    /// connection to be registered again.</summary>
    private async Task WatchMembershipAsync(CancellationToken stopping)
    {
        var previous = membership.CurrentSnapshot;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stopping).ConfigureAwait(false))
                {
                    var dead = snapshot.Members.Values
                        .Where(m => m.Status == SiloStatus.Dead
                            && !m.SiloAddress.Equals(localSilo.SiloAddress)
                            && previous.GetSiloStatus(m.SiloAddress) != SiloStatus.Dead)
                        .Select(m => m.SiloAddress)
                        .ToList();
                    previous = snapshot;
                    if (dead.Count > 0)
                    {
                        HubLog.SiloDeclaredDead(logger, string.Join(", ", dead), _agentByConnection.Count);
                        _registerAll.Writer.TryWrite(true);
                    }
                }

                return; // the membership service ended its updates: this silo is stopping
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not expected; the renewal still runs. Follow the membership again a moment later.
                HubLog.MembershipWatchFailed(logger, ex);
                try
                {
                    await Task.Delay(RetryDelay, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RegisterAllLoopAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var _ in _registerAll.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await RegisterAllAgainAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    // Not expected (the calls' own failures are handled in the pass); the next death or renewal tries again.
                    HubLog.RegisterAllAgainBroke(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // this silo is stopping
        }
    }

    /// <summary>Registers every connection of this relay again, <see cref="MaxConcurrentRegistrations"/> at a time;
    /// what fails is tried again (<see cref="RegisterAgainRounds"/> rounds in all), then left to the next trigger.</summary>
    private async Task RegisterAllAgainAsync(CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        var pending = _agentByConnection.ToArray();
        var total = pending.Length;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentRegistrations, CancellationToken = stopping };
        for (var round = 1; pending.Length > 0; round++)
        {
            var failed = new ConcurrentQueue<(KeyValuePair<string, string> Entry, Exception Error)>();
            await Parallel.ForEachAsync(pending, parallel, async (entry, token) =>
            {
                var (connectionId, agentId) = entry;
                bool StillWanted() => !token.IsCancellationRequested && _agentByConnection.GetValueOrDefault(connectionId) == agentId;
                if (!StillWanted())
                {
                    return; // closed meanwhile
                }

                try
                {
                    await RegisterAsync(agentId, connectionId, StillWanted, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or OrleansException)
                {
                    failed.Enqueue((entry, ex));
                }
            }).ConfigureAwait(false);

            if (failed.IsEmpty)
            {
                HubLog.RegisteredAllAgain(logger, total, round, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return;
            }

            var (_, error) = failed.First();
            if (round == RegisterAgainRounds)
            {
                HubLog.RegisterAllAgainFailed(logger, error, failed.Count, total, round);
                return;
            }

            HubLog.RegisterAllAgainRetrying(logger, error, failed.Count, total, round);
            await Task.Delay(RetryDelay * round, stopping).ConfigureAwait(false);
            pending = [.. failed.Select(f => f.Entry)];
        }
    }

    private async Task RenewLoopAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                foreach (var (connectionId, agentId) in _agentByConnection)
                {
                    stopping.ThrowIfCancellationRequested();
                    try
                    {
                        await routing.Agent(agentId).DesktopConnectedAsync(connectionId, Reference).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is TimeoutException or OrleansException)
                    {
                        HubLog.RenewFailed(logger, ex, agentId);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // this silo is stopping
        }
    }
}
