using System.Collections.Concurrent;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Takeover;

/// <summary>
/// An agent at a desktop given the silos of both sites (<see cref="AgentDesktopClient"/> fails over between them by
/// itself). It accepts every offer it sees, pushed or listed in its view (after a reconnect the view lists the offers
/// made while it was away), talks for the talk time, and ends the session. A request the connection's loss cut off is
/// tried again once the desktop is back: an accept if the offer is still listed, an end until the server answers it.
/// A session its view shows connected that it does not know of (an accept whose answer was lost) is talked to and
/// ended like any other; one it had ended that site B shows connected again (an end site B never got) is ended again.
/// </summary>
internal sealed class DrillAgent : IAsyncDisposable
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(500);

    private readonly AgentDesktopClient _desktop;
    private readonly TakeoverLedger _ledger;
    private readonly Func<Uri?, bool> _isSiteB;
    private readonly TimeSpan _talk;
    private readonly CancellationToken _stop;
    private readonly ConcurrentDictionary<string, byte> _answering = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _talking = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _ended = new(StringComparer.Ordinal);

    /// <param name="isSiteB">Whether a silo (the desktop's when an accept is answered) is one of site B's.</param>
    public DrillAgent(string agentId, IReadOnlyList<Uri> silos, AccessTokenSource tokens, TakeoverLedger ledger, Func<Uri?, bool> isSiteB, TimeSpan talk, CancellationToken stop)
    {
        AgentId = agentId;
        _ledger = ledger;
        _isSiteB = isSiteB;
        _talk = talk;
        _stop = stop;
        _desktop = new AgentDesktopClient(silos, new AgentDesktopOptions { AccessTokens = tokens });
        _desktop.OfferReceived += (offer, view) =>
        {
            Answer(offer.SessionId, offer.OfferedAt);
            Sweep(view, reconnected: false);
            return Task.CompletedTask;
        };
        _desktop.AgentChanged += view =>
        {
            Sweep(view, reconnected: false);
            return Task.CompletedTask;
        };
        _desktop.Reconnected += view =>
        {
            _ledger.Trace($"reconnected {AgentId} to {_desktop.CurrentAddress} state {view.State} offers [{string.Join(' ', view.Offers.Select(o => o.SessionId))}] held [{string.Join(' ', view.Sessions.Select(h => $"{h.SessionId}:{h.State}"))}]");
            Sweep(view, reconnected: true);
            return Task.CompletedTask;
        };
        _desktop.Reconnecting += _ =>
        {
            _ledger.Trace($"reconnecting {AgentId}");
            return Task.CompletedTask;
        };

        // A missed offer leaves the agent not-ready; the agent at the desktop goes ready again.
        _desktop.OfferExpired += (sessionId, view) =>
        {
            _ledger.Trace($"expired {sessionId} at {AgentId} (now {view.State})");
            _ = Task.Run(GoReadyAsync, CancellationToken.None);
            return Task.CompletedTask;
        };

        // Reconnected, but the sign-in there failed (the silo was still starting): the agent signs in again.
        _desktop.SignInFailed += failure =>
        {
            _ledger.Trace($"sign-in of {AgentId} after reconnecting failed: {failure.GetType().Name}: {failure.Message}");
            _ = Task.Run(SignInAgainAsync, CancellationToken.None);
            return Task.CompletedTask;
        };
    }

    public string AgentId { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _desktop.SignInAsync(AgentId, cancellationToken);
        var ready = await _desktop.SetStateAsync(AgentState.Ready, cancellationToken: cancellationToken);
        if (!ready.Ok)
        {
            throw new InvalidOperationException($"Agent {AgentId} could not go ready: {ready.Status} {ready.Detail}");
        }
    }

    public ValueTask DisposeAsync() => _desktop.DisposeAsync();

    private void Sweep(AgentView view, bool reconnected)
    {
        foreach (var offer in view.Offers)
        {
            Answer(offer.SessionId, offer.OfferedAt);
        }

        foreach (var held in view.Sessions.Where(s => s.State == HeldState.Connected))
        {
            if (_talking.TryAdd(held.SessionId, 0) || (reconnected && _ended.TryRemove(held.SessionId, out _)))
            {
                _ = Task.Run(() => TalkAsync(held.SessionId), CancellationToken.None);
            }
        }

        if (reconnected && view.State != AgentState.Ready)
        {
            _ = Task.Run(GoReadyAsync, CancellationToken.None);
        }
    }

    private void Answer(string sessionId, DateTimeOffset offeredAt)
    {
        if (_answering.TryAdd(sessionId, 0))
        {
            _ledger.Offer(sessionId, AgentId, offeredAt);
            _ = Task.Run(() => AcceptAsync(sessionId), CancellationToken.None);
        }
    }

    private async Task AcceptAsync(string sessionId)
    {
        try
        {
            var accepted = await _desktop.AcceptAsync(sessionId, _stop);
            if (accepted.Ok)
            {
                _ledger.Accept(sessionId, AgentId, _isSiteB(_desktop.CurrentAddress));
                if (_talking.TryAdd(sessionId, 0))
                {
                    await TalkAsync(sessionId);
                }
            }
            else
            {
                // 404 or 409: the offer is gone (expired, withdrawn, or taken back by a queue after a silo's loss).
                _ledger.Trace($"accept {sessionId} by {AgentId} answered {accepted.Status} {accepted.Detail}");
            }
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            // The connection went with the request, or was not signed in again yet: whether it was done is unknown.
            // The agent's view, once it can be read again, lists the offer if it is still pending (answered then), or
            // the session as held if it was done.
            _ledger.Trace($"accept {sessionId} by {AgentId} failed: {ex.GetType().Name}: {ex.Message}");
            _answering.TryRemove(sessionId, out _);
            await ResyncAsync();
        }
    }

    /// <summary>Reads the agent's view until it can (the desktop may still be reconnecting) and answers what it lists.</summary>
    private async Task ResyncAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RetryPause, _stop);
                if (await _desktop.GetAgentAsync(_stop) is { } view)
                {
                    Sweep(view, reconnected: _isSiteB(_desktop.CurrentAddress));
                }

                return;
            }
            catch (Exception ex) when (!_stop.IsCancellationRequested)
            {
                _ledger.Trace($"view of {AgentId} not read: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private async Task TalkAsync(string sessionId)
    {
        try
        {
            await Task.Delay(_talk, _stop);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var ended = await _desktop.EndAsync(sessionId, _stop);
                    if (ended.Ok)
                    {
                        _ledger.End(sessionId, AgentId);
                        _ended.TryAdd(sessionId, 0);
                    }
                    else
                    {
                        _ledger.Trace($"end {sessionId} by {AgentId} answered {ended.Status} {ended.Detail}");
                    }

                    return;
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    // Whatever the takeover throws at it (the connection lost, not signed in again yet, an
                    // invocation cut off): the end is tried again until the server answers it.
                    _ledger.Trace($"end {sessionId} by {AgentId} failed: {ex.GetType().Name}: {ex.Message}");
                    await Task.Delay(RetryPause, _stop);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The run is over: the session stays as it is.
        }
    }

    private async Task SignInAgainAsync()
    {
        try
        {
            await Task.Delay(RetryPause, _stop);
            Sweep(await _desktop.SignInAsync(AgentId, _stop), reconnected: true);
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            // The connection dropped again: its next reconnect signs in again.
            _ledger.Trace($"sign-in of {AgentId} failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task GoReadyAsync()
    {
        try
        {
            await _desktop.SetStateAsync(AgentState.Ready, cancellationToken: _stop);
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            // Tried again after the next reconnect (its view shows the agent not ready).
            _ledger.Trace($"ready of {AgentId} failed: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
