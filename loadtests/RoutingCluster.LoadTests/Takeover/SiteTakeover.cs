using System.Diagnostics;
using System.Globalization;
using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Takeover;

/// <summary>
/// The <c>site-takeover</c> command: the clients of a backup-site takeover drill (gateways and agent desktops given the
/// silos of both sites), their own records of what they were told, and the figures read from those records against
/// what site B holds after the takeover. See <see cref="TakeoverOptions.Usage"/>; <c>scripts/drill.sh</c> kills site A,
/// promotes site B's database and starts site B's silos around it.
/// </summary>
internal sealed class SiteTakeover
{
    /// <summary>Written into the control folder when site A may be killed.</summary>
    public const string KillPointFile = "kill-point";

    /// <summary>Written into the control folder by whoever killed site A: the kill's time, Unix milliseconds.</summary>
    public const string KilledFile = "killed";

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan SettlePollEvery = TimeSpan.FromMilliseconds(500);

    private readonly TakeoverOptions _options;
    private readonly TextWriter _out;
    private readonly TakeoverLedger _ledger;
    private readonly SiteFailover _gateway;
    private readonly string _queueId;

    private SiteTakeover(TakeoverOptions options, TextWriter output)
    {
        _options = options;
        _out = output;
        _ledger = new TakeoverLedger(options.Trace);
        _gateway = new SiteFailover(options.AllSilos, new FailoverTokenSource([.. options.AllSilos.Select(LoadTokens.Operator)]));
        _queueId = $"dr-{options.RunId}-q";
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        TakeoverOptions options;
        try
        {
            options = TakeoverOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync(ex.Message);
            await error.WriteLineAsync("Run with --help for the options.");
            return 2;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.DeadlineSeconds));
        var drill = new SiteTakeover(options, output);
        try
        {
            return await drill.RunAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or TimeoutException or RoutingApiException or InvalidOperationException or IOException)
        {
            await error.WriteLineAsync($"site-takeover: {(deadline.IsCancellationRequested ? $"not done within --deadline-s {options.DeadlineSeconds}" : "failed")}: {ex.GetType().Name}: {ex.Message}");
            return 4;
        }
        finally
        {
            drill._gateway.Dispose();
            drill._ledger.Dispose();
        }
    }

    private async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.Control);
        using var agentsStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var agents = await SetUpAsync(agentsStop.Token, cancellationToken);
        try
        {
            var watch = Task.Run(() => WatchForKillAsync(cancellationToken), cancellationToken);
            await CreateUntilKilledAsync(cancellationToken);
            await watch;
            Say($"site A killed at {_ledger.KilledAt}; {_ledger.Acknowledged} creates acknowledged");

            await SettleAsync(cancellationToken);
            await _out.WriteLineAsync(await CheckAsync(cancellationToken));
            return 0;
        }
        finally
        {
            await agentsStop.CancelAsync();
            await Task.WhenAll(agents.Select(a => a.DisposeAsync().AsTask()));
        }
    }

    /// <summary>The queue and the agents, through the gateway; the desktops signed in and ready.</summary>
    private async Task<DrillAgent[]> SetUpAsync(CancellationToken agentsStop, CancellationToken cancellationToken)
    {
        var within = TimeSpan.FromSeconds(30);
        await _gateway.CallAsync((c, ct) => c.PutQueueAsync(_queueId, new QueueSettings
        {
            Name = $"Takeover drill {_options.RunId}",
            OfferTimeoutSeconds = _options.OfferTimeoutSeconds,
            WrapUpSeconds = 0,
            MaxWaiting = 1_000_000,
            MaxWaitSeconds = 86_400,
        }, ct), within, cancellationToken);

        var agentTokens = new FailoverTokenSource([.. _options.AllSilos.Select(LoadTokens.Agents)]);
        var agents = new DrillAgent[_options.Agents];
        for (var i = 0; i < agents.Length; i++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"dr-{_options.RunId}-a{i + 1:D3}");
            await _gateway.CallAsync((c, ct) => c.PutAgentAsync(id, new AgentProfile
            {
                Name = $"Drill agent {i + 1}",
                Queues = [_queueId],
                Capacity = new Dictionary<Channel, int> { [Channel.Voice] = 1 },
            }, ct), within, cancellationToken);

            // Desktops spread over site A's silos, then the rest of site A, then site B.
            var a = _options.SiteA;
            IReadOnlyList<Uri> silos = [.. a.Skip(i % a.Count), .. a.Take(i % a.Count), .. _options.SiteB];
            agents[i] = new DrillAgent(id, silos, agentTokens, _ledger, IsSiteB, TimeSpan.FromSeconds(_options.TalkSeconds), agentsStop);
        }

        await Task.WhenAll(agents.Select(a => a.StartAsync(cancellationToken)));
        Say($"queue {_queueId} and {agents.Length} agents ready; desktops signed in");
        return agents;
    }

    private bool IsSiteB(Uri? silo) => silo is not null && _options.SiteB.Contains(silo);

    /// <summary>Creates one after another at the rate until the kill is known; writes the kill point on the way.</summary>
    private async Task CreateUntilKilledAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var interval = TimeSpan.FromSeconds(1 / _options.Rate);
        var remaining = TimeSpan.FromSeconds(_options.DeadlineSeconds);
        for (var i = 0; i < _options.Sessions && _ledger.KilledAt < 0; i++)
        {
            var wait = (interval * i) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            var index = i;
            var request = new CreateSessionRequest
            {
                QueueId = _queueId,
                Channel = Channel.Voice,
                Customer = new Customer { Id = string.Create(CultureInfo.InvariantCulture, $"c-{_options.RunId}-{index}"), Age = 40 },
            };
            var key = string.Create(CultureInfo.InvariantCulture, $"dr-{_options.RunId}-{index}");

            // A create that the loss cut off is sent again, with its key, until a silo of either site answers it.
            var created = await _gateway.CallAsync((c, ct) => c.CreateSessionAsync(request, key, ct), remaining, cancellationToken);
            _ledger.Create(index, created.Session.Id, TakeoverLedger.Now);
            if (_ledger.Acknowledged == _options.KillAfter)
            {
                await File.WriteAllTextAsync(Path.Combine(_options.Control, KillPointFile), string.Empty, cancellationToken);
                Say($"kill point written after {_options.KillAfter} acknowledged creates");
            }
        }
    }

    private async Task WatchForKillAsync(CancellationToken cancellationToken)
    {
        var file = Path.Combine(_options.Control, KilledFile);
        while (true)
        {
            if (File.Exists(file) && long.TryParse((await File.ReadAllTextAsync(file, cancellationToken)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var at))
            {
                _ledger.Killed(at);
                return;
            }

            await Task.Delay(PollEvery, cancellationToken);
        }
    }

    /// <summary>Until every acknowledged session site B holds has left the queue (offered and answered, or ended), or
    /// --settle-s after the kill.</summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        var until = _ledger.KilledAt + (_options.SettleSeconds * 1000L);
        var waiting = _ledger.Created.Select(c => c.SessionId).ToHashSet(StringComparer.Ordinal);
        while (waiting.Count > 0 && TakeoverLedger.Now < until)
        {
            foreach (var id in waiting.ToArray())
            {
                var view = await ReadAsync(id, TimeSpan.FromMilliseconds(Math.Max(1, until - TakeoverLedger.Now)), cancellationToken);
                if (view is null || view.State is not (SessionState.Queued or SessionState.Offered))
                {
                    waiting.Remove(id);
                }
            }

            if (waiting.Count > 0)
            {
                await Task.Delay(SettlePollEvery, cancellationToken);
            }
        }

        Say(waiting.Count == 0
            ? $"site B served the waiting line; first accept at site B {_ledger.FirstAcceptAtSiteB - _ledger.KilledAt} ms after the kill"
            : $"{waiting.Count} sessions still waiting at site B {_options.SettleSeconds} s after the kill");
    }

    /// <summary>The session as site B has it (a silo that answers), null when it does not exist.</summary>
    private async Task<ClientSessionView?> ReadAsync(string sessionId, TimeSpan within, CancellationToken cancellationToken)
    {
        try
        {
            return await _gateway.CallAsync((c, ct) => c.GetSessionAsync(sessionId, ct), within, cancellationToken);
        }
        catch (RoutingApiException ex) when (ex.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>Every acknowledged session read back from site B, against the ledger: the DRILL line.</summary>
    private async Task<string> CheckAsync(CancellationToken cancellationToken)
    {
        var killedAt = _ledger.KilledAt;
        var created = _ledger.Created;
        var views = new Dictionary<string, ClientSessionView>(StringComparer.Ordinal);
        foreach (var session in created)
        {
            if (await ReadAsync(session.SessionId, TimeSpan.FromSeconds(30), cancellationToken) is { } view)
            {
                views[session.SessionId] = view;
            }
        }

        var missing = created.Where(c => !views.ContainsKey(c.SessionId)).ToList();
        foreach (var session in missing.Take(10))
        {
            Say($"lost: session {session.SessionId} (create {session.Index}, acknowledged {session.AcknowledgedAt - killedAt} ms before the kill)");
        }

        // Actions acknowledged before the kill that site B does not show: an accept without its agent's connected
        // entry, an end without a wrap-up or completion after it.
        int acceptsBefore = 0, acceptsLost = 0, endsBefore = 0, endsLost = 0;
        foreach (var session in created)
        {
            views.TryGetValue(session.SessionId, out var view);
            foreach (var (agent, at) in _ledger.AcceptsOf(session.SessionId).Where(a => a.Value < killedAt))
            {
                acceptsBefore++;
                if (view is null || !view.History.Any(h => h.State == SessionState.Connected && h.AgentId == agent))
                {
                    acceptsLost++;
                    Say($"accept lost: session {session.SessionId} by {agent}, acknowledged {killedAt - at} ms before the kill");
                }
            }

            foreach (var (agent, at) in _ledger.EndsOf(session.SessionId).Where(e => e.Value < killedAt))
            {
                endsBefore++;
                if (view is null || !view.History.Any(h => h.State is SessionState.WrapUp or SessionState.Completed && h.At.ToUnixTimeMilliseconds() <= at))
                {
                    endsLost++;
                    Say($"end lost: session {session.SessionId} by {agent}, acknowledged {killedAt - at} ms before the kill");
                }
            }
        }

        foreach (var session in created.Where(c => _ledger.AcceptsOf(c.SessionId).Count > 1))
        {
            Say($"double assigned: session {session.SessionId} accepted by {string.Join(", ", _ledger.AcceptsOf(session.SessionId).Keys)}");
        }

        // The line at the kill: acknowledged before it, no offer seen before it, first offered by site B (after it).
        // Site B must offer it in its order. Agents freed together are offered the head of the line together, each
        // offer stamped as it is made, so within one dispatch (at most one offer per agent) the stamps may come in any
        // order; a session that waits while as many sessions created behind it as there are agents are offered was
        // passed over: an inversion.
        var waitingAtKill = created
            .Where(c => c.AcknowledgedAt < killedAt && (_ledger.FirstOffer(c.SessionId) is not { } seen || seen.SeenAt >= killedAt))
            .ToList();
        var offeredByB = waitingAtKill
            .Select(c => (c.Index, Offer: _ledger.FirstOffer(c.SessionId)!))
            .Where(o => o.Offer is { } seen && seen.OfferedAt >= killedAt)
            .ToList();
        var inversions = 0;
        for (var i = 0; i < offeredByB.Count; i++)
        {
            var (index, offer) = offeredByB[i];
            var overtakers = offeredByB.Skip(i + 1).Where(o => o.Offer.OfferedAt < offer.OfferedAt).ToList();
            if (overtakers.Count >= _options.Agents)
            {
                inversions++;
                Say($"order: create {index} offered at site B (to {offer.AgentId}) after {overtakers.Count} sessions created behind it, the first create {overtakers[0].Index} (to {overtakers[0].Offer.AgentId}) {offer.OfferedAt - overtakers[0].Offer.OfferedAt} ms before it");
                _ledger.Trace($"order inversion: create {index} {History(created, views, index)}; create {overtakers[0].Index} {History(created, views, overtakers[0].Index)}");
            }
        }

        var unserved = views.Values.Count(v => v.State is SessionState.Queued or SessionState.Offered);
        var acknowledged = created.Count;
        return string.Create(CultureInfo.InvariantCulture,
            $"DRILL acknowledged={acknowledged} found={views.Count} lost={acknowledged - views.Count} double_assigned={_ledger.DoubleAssigned} " +
            $"killed_at_ms={killedAt} served_at_ms={_ledger.FirstAcceptAtSiteB} acknowledged_after_kill={created.Count(c => c.AcknowledgedAt >= killedAt)} " +
            $"accepts_before_kill={acceptsBefore} accepts_lost={acceptsLost} ends_before_kill={endsBefore} ends_lost={endsLost} " +
            $"waiting_at_kill={waitingAtKill.Count} order_checked={offeredByB.Count} order_inversions={inversions} unserved={unserved}");
    }

    private static string History(IReadOnlyCollection<CreatedSession> created, Dictionary<string, ClientSessionView> views, int index)
    {
        var id = created.First(c => c.Index == index).SessionId;
        return views.TryGetValue(id, out var view)
            ? $"{id}: " + string.Join(", ", view.History.Select(h => $"{h.State} {h.At.ToUnixTimeMilliseconds()} {h.AgentId} {h.Note}"))
            : $"{id}: not found";
    }

    private void Say(string line) => _out.WriteLine($"site-takeover: {line}");
}
