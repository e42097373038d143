using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// One agent at a desktop, over SignalR (<see cref="AgentDesktopClient"/>): signed in and ready; on each offer it
/// waits the accept delay, accepts, talks for an exponential time, and ends the session (the server then ends
/// the wrap-up on the queue's timer and may offer the next session). Several chats run side by side, each on
/// its own task, so the desktop's event loop is never held up. A missed offer (the agent is set not-ready) is
/// followed by ready again, as an agent would do. Every view the hub pushes is checked against the capacity.
/// </summary>
internal sealed class SimulatedAgent : IAsyncDisposable
{
    /// <summary>How far past an offer's expiry a refused accept still counts as "missed" rather than an error
    /// (the host is on this machine, so both clocks are the same clock).</summary>
    private static readonly TimeSpan ExpiryTolerance = TimeSpan.FromMilliseconds(500);

    private readonly AgentDesktopClient _desktop;
    private readonly Func<Observations> _observations;
    private readonly LoadOptions _options;
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly CancellationToken _stop;

    /// <param name="agentId">The agent's id.</param>
    /// <param name="target">The host whose agent hub this desktop connects to.</param>
    /// <param name="options">The run's options (accept delay, talk time).</param>
    /// <param name="observations">Where to record, read at each event: the step mode gives each step its own.</param>
    /// <param name="seed">Seed of the talk times.</param>
    /// <param name="stop">End of the run: talks and accepts under way are abandoned.</param>
    public SimulatedAgent(string agentId, Uri target, LoadOptions options, Func<Observations> observations, int seed, CancellationToken stop)
    {
        AgentId = agentId;
        _options = options;
        _observations = observations;
        _random = new Random(seed);
        _stop = stop;
        _desktop = new AgentDesktopClient(target, new AgentDesktopOptions { AccessTokens = LoadTokens.Agents(target) });
        _desktop.OfferReceived += OnOfferAsync;
        _desktop.OfferExpired += OnOfferExpiredAsync;
        _desktop.OfferWithdrawn += (_, view) => CheckView(view);
        _desktop.AgentChanged += CheckView;
        _desktop.Reconnected += CheckView;
        _desktop.Reconnecting += _ =>
        {
            _observations().Errors.Add("hub connection lost (reconnecting)");
            return Task.CompletedTask;
        };
    }

    public string AgentId { get; }

    /// <summary>Once the run is over: offers and events from then on are not the run's.</summary>
    public bool Finished { get; set; }

    /// <summary>Connects, signs in and goes ready.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var view = await Timed("hub SignIn", () => _desktop.SignInAsync(AgentId, cancellationToken));
        _observations().CheckAgentView(view);
        var ready = await Timed("hub SetState", () => _desktop.SetStateAsync(AgentState.Ready, cancellationToken: cancellationToken));
        if (!ready.Ok)
        {
            throw new InvalidOperationException($"Agent {AgentId} could not go ready: {ready.Status} {ready.Detail}");
        }
    }

    /// <summary>Logs the agent out (best effort: it may still hold sessions when the drain ran out).</summary>
    public async Task LogOutAsync(CancellationToken cancellationToken)
    {
        Finished = true;
        try
        {
            if (_desktop.AgentId is not null)
            {
                await _desktop.SetStateAsync(AgentState.LoggedOut, cancellationToken: cancellationToken);
            }
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException or OperationCanceledException)
        {
            // The host may be gone already, or the connection closed: nothing left to clean up then.
        }
    }

    public ValueTask DisposeAsync() => _desktop.DisposeAsync();

    private Task OnOfferAsync(OfferNotice offer, AgentView view)
    {
        var received = Stopwatch.GetTimestamp();
        var observations = _observations();

        // The push path on its own (agent grain, relay, SignalR, this driver's reading), on the one clock the host and
        // the driver share (loopback targets only): what create -> offer spent after the offer was made.
        var pushed = DateTimeOffset.UtcNow - offer.OfferedAt;
        observations.Latency.Record(LoadRun.OfferMadeToDesktop, (long)(Math.Max(0, pushed.TotalSeconds) * Stopwatch.Frequency));
        observations.CheckAgentView(view);
        if (Finished)
        {
            return Task.CompletedTask;
        }

        var observed = observations.Track(offer.SessionId).OfferReceived(AgentId, offer, received);

        // Beside the event loop: an agent with a chat capacity of 3 talks on three sessions at once.
        observations.AgentBusy();
        _ = Task.Run(() => AnswerAsync(observed, observations), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task AnswerAsync(ObservedOffer offer, Observations observations)
    {
        var sessionId = offer.Notice.SessionId;
        try
        {
            await Task.Delay(_options.AcceptDelayMs, _stop);
            var acceptStart = Stopwatch.GetTimestamp();
            var accepted = await _desktop.AcceptAsync(sessionId, _stop);
            var acceptTicks = Stopwatch.GetTimestamp() - acceptStart;
            observations.Latency.Record("hub Accept", acceptTicks);
            if (!accepted.Ok)
            {
                if (accepted.Status == 409 && DateTimeOffset.UtcNow >= offer.Notice.ExpiresAt - ExpiryTolerance)
                {
                    return; // the offer expired first: counted as a missed offer (OfferExpired)
                }

                observations.Errors.Add($"hub Accept {accepted.Status}");
                return;
            }

            offer.Accepted = true;
            observations.Accepts.Add(acceptStart + acceptTicks);
            observations.Latency.Record("accept -> connected", acceptTicks);
            await Task.Delay(TalkTime(), _stop);
            var ended = await Timed(observations, "hub End", () => _desktop.EndAsync(sessionId, _stop));
            if (ended.Ok)
            {
                observations.Track(sessionId).EndedByAgent();
            }
            else
            {
                observations.Errors.Add($"hub End {ended.Status}");
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The drain ran out: the session stays where it is and is reported unfinished.
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException or OperationCanceledException)
        {
            observations.Errors.Add($"hub {ex.GetType().Name}");
        }
        finally
        {
            observations.AgentFree();
        }
    }

    private async Task OnOfferExpiredAsync(string sessionId, AgentView view)
    {
        var observations = _observations();
        observations.CheckAgentView(view);
        if (Finished)
        {
            return;
        }

        observations.MissedOffer();

        // A missed offer leaves the agent not-ready (missed-offer); the agent at the desktop goes ready again.
        try
        {
            var ready = await Timed(observations, "hub SetState", () => _desktop.SetStateAsync(AgentState.Ready, cancellationToken: _stop));
            if (!ready.Ok)
            {
                observations.Errors.Add($"hub SetState {ready.Status}");
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException)
        {
            observations.Errors.Add($"hub {ex.GetType().Name}");
        }
    }

    private Task CheckView(AgentView view)
    {
        _observations().CheckAgentView(view);
        return Task.CompletedTask;
    }

    private TimeSpan TalkTime()
    {
        if (_options.TalkSeconds <= 0)
        {
            return TimeSpan.Zero;
        }

        lock (_randomLock)
        {
            return TimeSpan.FromSeconds(ArrivalSchedule.NextExponential(_random, 1.0 / _options.TalkSeconds));
        }
    }

    private Task<T> Timed<T>(string name, Func<Task<T>> call) => Timed(_observations(), name, call);

    private static async Task<T> Timed<T>(Observations observations, string name, Func<Task<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await call();
        observations.Latency.Record(name, Stopwatch.GetTimestamp() - start);
        return result;
    }
}
