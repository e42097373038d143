using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>
/// This silo's relay between agent grains and the agent desktops connected to this silo. It is registered with
/// each agent grain whose desktop signs in here (an Orleans observer), so the grain pushes updates straight to
/// it from whichever silo hosts the grain; the relay forwards them to the agent's SignalR connections.
/// It also renews the registrations periodically, which keeps the agent grains active and re-registers after a
/// grain was reactivated elsewhere, and at once when an agent grain says it is deactivating (its silo stops).
/// </summary>
public sealed class AgentDesktopRelay(IGrainFactory grains, IHubContext<AgentHub> hub, ILogger<AgentDesktopRelay> logger)
    : IAgentDesktopObserver, IHostedService, IDisposable
{
    /// <summary>How often connected desktops are re-registered with their agent grains.</summary>
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(60);

    /// <summary>Attempts to register a desktop connection with its agent's grain while a silo stops (200 ms more
    /// between each, 3 s in all).</summary>
    private const int RegisterAttempts = 6;

    private readonly ConcurrentDictionary<string, string> _agentByConnection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _connectionsByAgent = new(StringComparer.Ordinal);
    private readonly object _referenceLock = new();
    private IAgentDesktopObserver? _reference;
    private PeriodicTimer? _renewTimer;
    private Task? _renewLoop;

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

    public int ConnectedAgents => _connectionsByAgent.Count(kv => !kv.Value.IsEmpty);

    /// <summary>Registers a connection of an agent with its grain; returns the agent's current view (null: no such agent).</summary>
    public async Task<AgentView?> ConnectAsync(string agentId, string connectionId)
    {
        var view = await RegisterAsync(agentId, connectionId, stillWanted: () => true);
        if (view is null)
        {
            await grains.GetGrain<IAgentGrain>(agentId).DesktopDisconnectedAsync(connectionId);
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

        await grains.GetGrain<IAgentGrain>(agentId).DesktopDisconnectedAsync(connectionId);
    }

    public Task OnAgentUpdateAsync(AgentUpdate update)
    {
        if (!_connectionsByAgent.TryGetValue(update.AgentId, out var connections) || connections.IsEmpty)
        {
            return Task.CompletedTask;
        }

        var clients = hub.Clients.Clients([.. connections.Keys]);
        return update.Type switch
        {
            AgentEventType.Offer => clients.SendAsync(AgentHub.Events.Offer, update.Offer, update.Agent),
            AgentEventType.OfferWithdrawn => clients.SendAsync(AgentHub.Events.OfferWithdrawn, update.SessionId, update.Agent),
            AgentEventType.OfferExpired => clients.SendAsync(AgentHub.Events.OfferExpired, update.SessionId, update.Agent),
            _ => clients.SendAsync(AgentHub.Events.AgentChanged, update.Agent),
        };
    }

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
        _renewTimer = new PeriodicTimer(RenewEvery);
        _renewLoop = RenewLoopAsync(_renewTimer);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _renewTimer?.Dispose();
        if (_renewLoop is not null)
        {
            await _renewLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _renewTimer?.Dispose();

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
    private async Task<AgentView?> RegisterAsync(string agentId, string connectionId, Func<bool> stillWanted)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await grains.GetGrain<IAgentGrain>(agentId).DesktopConnectedAsync(connectionId, Reference).ConfigureAwait(false);
            }
            catch (SiloUnavailableException) when (attempt < RegisterAttempts && stillWanted())
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
            }
        }
    }

    private async Task RenewLoopAsync(PeriodicTimer timer)
    {
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            foreach (var (connectionId, agentId) in _agentByConnection)
            {
                try
                {
                    await grains.GetGrain<IAgentGrain>(agentId).DesktopConnectedAsync(connectionId, Reference).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or OrleansException)
                {
                    HubLog.RenewFailed(logger, ex, agentId);
                }
            }
        }
    }
}
