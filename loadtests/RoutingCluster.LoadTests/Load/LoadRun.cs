using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// The main load command: set-up, open-model arrivals, drain, checks from the API, report. See
/// <see cref="LoadOptions.Usage"/> for what it does and <c>docs/performance.md</c> for how to read it.
/// </summary>
internal sealed class LoadRun
{
    public const string OfferFromScheduled = "create -> offer (from scheduled)";
    public const string OfferFromSend = "create -> offer (from send)";

    private const int SetupParallelism = 16;
    private const int CheckParallelism = 16;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    private readonly LoadOptions _options;
    private readonly IReadOnlyList<string> _args;
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly Observations _observations = new();
    private readonly Workload _workload;
    private readonly ConcurrentBag<PlannedSession> _failedCreates = [];
    private readonly ConcurrentDictionary<string, PlannedSession> _refused = new(StringComparer.Ordinal);
    private int _created;

    private LoadRun(LoadOptions options, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        _options = options;
        _args = args;
        _out = output;
        _error = error;
        _workload = new Workload(options);
    }

    /// <summary>
    /// Runs the load command with <paramref name="args"/> (the options only), writing progress, the report's
    /// location and finally the RESULT line to <paramref name="output"/>. <paramref name="stopArrivals"/> ends the
    /// arrivals early (Ctrl+C); the drain and the checks still run. Answers the exit code.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stopArrivals = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync(ex.Message);
            await error.WriteLineAsync("Run with --help for the options.");
            return 2;
        }

        return await new LoadRun(options, args, output, error).RunAsync(stopArrivals);
    }

    /// <summary>The session id the server gives to a create with this idempotency key (README: the first 128 bits
    /// of the key's SHA-256), to look for sessions whose create got no answer.</summary>
    public static string SessionIdFor(string idempotencyKey) =>
        "s-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)).AsSpan(0, 16));

    private async Task<int> RunAsync(CancellationToken stopArrivals)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var plan = _workload.Sessions();
        using var http = new RoutingClient(_options.Target);
        using var endOfRun = new CancellationTokenSource();
        var agents = new List<SimulatedAgent>(_options.Agents);
        try
        {
            await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Run {_options.RunId}: {_options.Rate}/s for {_options.DurationSeconds} s ({plan.Count} sessions planned) against {_options.Target}, " +
                $"{_options.Agents} agents, {_options.Queues} queue(s), channels {_options.Channels}, skills {_options.Skills}, elderly share {_options.ElderlyShare}."));
            var needed = _options.AgentsNeeded();
            if (needed > _options.Agents * 0.9)
            {
                await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Warning: the offered load needs about {needed:0} agents on average ({_options.Rate}/s x (accept {_options.AcceptDelayMs} ms + talk {_options.TalkSeconds} s + wrap-up {_options.WrapUpSeconds} s) / capacity), " +
                    $"and there are {_options.Agents}: sessions will wait for agents, and create -> offer will measure that wait."));
            }

            try
            {
                await SetUpAsync(http, agents, endOfRun.Token);
            }
            catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException or HubException or InvalidOperationException or IOException or OperationCanceledException)
            {
                await _error.WriteLineAsync($"Setup failed against {_options.Target}: {ex.Message}");
                return 4;
            }

            var arrival = await RunArrivalsAsync(http, plan, stopArrivals);
            await DrainAsync();
            await endOfRun.CancelAsync();
            foreach (var agent in agents)
            {
                agent.Finished = true;
            }

            var (report, sessions) = await CheckAsync(http, agents, plan, arrival, startedAt);
            var abandoned = await CleanUpAsync(http, sessions);
            var final = report with { Counts = report.Counts with { AbandonedAtEnd = abandoned } };
            await WriteReportAsync(final);
            return final.ExitCode;
        }
        finally
        {
            await endOfRun.CancelAsync();
            using var logout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (agent, _) =>
            {
                await agent.LogOutAsync(logout.Token);
                await agent.DisposeAsync();
            });
        }
    }

    private async Task SetUpAsync(RoutingClient http, List<SimulatedAgent> agents, CancellationToken endOfRun)
    {
        var setup = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        for (var k = 0; k < _workload.QueueIds.Count; k++)
        {
            var queueId = _workload.QueueIds[k];
            var settings = _workload.QueueSettings(k + 1);
            await TimedHttp("PUT /v1/queues/{id}", () => http.PutQueueAsync(queueId, settings, timeout.Token));
        }

        var profiles = _workload.Agents();
        await Parallel.ForEachAsync(profiles, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = timeout.Token }, async (agent, ct) =>
            await TimedHttp("PUT /v1/agents/{id}", () => http.PutAgentAsync(agent.Id, agent.Profile, ct)));

        var signedIn = new ConcurrentBag<SimulatedAgent>();
        try
        {
            await Parallel.ForEachAsync(
                profiles.Select((agent, i) => (agent.Id, Index: i)),
                new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = timeout.Token },
                async (agent, ct) =>
                {
                    var simulated = new SimulatedAgent(agent.Id, _options, _observations, unchecked((_options.Seed * 31) + agent.Index), endOfRun);
                    signedIn.Add(simulated);
                    await simulated.StartAsync(ct);
                });
        }
        finally
        {
            agents.AddRange(signedIn);
        }

        await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Set up {_workload.QueueIds.Count} queue(s) and {profiles.Count} agents (signed in over SignalR, ready) in {setup.Elapsed.TotalSeconds:0.0} s."));
    }

    /// <summary>Creates each planned session at its time from the start, without waiting for earlier ones.</summary>
    private async Task<double> RunArrivalsAsync(RoutingClient http, IReadOnlyList<PlannedSession> plan, CancellationToken stopArrivals)
    {
        var creates = new List<Task>(plan.Count);
        var start = Stopwatch.GetTimestamp();
        using var progress = new CancellationTokenSource();
        var reporter = ReportProgressAsync(start, progress.Token);
        try
        {
            foreach (var session in plan)
            {
                var due = start + (long)(session.AtSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stopArrivals);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                if (stopArrivals.IsCancellationRequested)
                {
                    break;
                }

                creates.Add(Task.Run(() => CreateAsync(http, session, due), CancellationToken.None));
            }

            // The arrival phase lasts the whole duration (a Poisson draw leaves a gap after the last arrival),
            // unless --max-sessions or a stop ended it early.
            var stoppedEarly = stopArrivals.IsCancellationRequested || creates.Count < plan.Count || plan.Count >= _options.MaxSessions;
            var arrivalSeconds = stoppedEarly ? Stopwatch.GetElapsedTime(start).TotalSeconds : _options.DurationSeconds;
            if (!stoppedEarly)
            {
                var rest = TimeSpan.FromSeconds(_options.DurationSeconds) - Stopwatch.GetElapsedTime(start);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest, CancellationToken.None);
                }
            }

            await Task.WhenAll(creates);
            return arrivalSeconds;
        }
        finally
        {
            await progress.CancelAsync();
            await reporter;
        }
    }

    private async Task CreateAsync(RoutingClient http, PlannedSession session, long scheduled)
    {
        var sent = Stopwatch.GetTimestamp();
        try
        {
            var created = await http.CreateSessionAsync(session.Request, session.IdempotencyKey);
            _observations.Latency.Record("POST /v1/sessions", Stopwatch.GetTimestamp() - sent);
            _observations.Track(created.Session.Id).Created(session, scheduled, sent, acknowledged: true);
            Interlocked.Increment(ref _created);
        }
        catch (RoutingApiException ex)
        {
            _observations.Latency.Record("POST /v1/sessions", Stopwatch.GetTimestamp() - sent);
            if (ex.IsQueueFull)
            {
                // Refused: the session exists (state refused) and is checked like the others.
                _refused[SessionIdFor(session.IdempotencyKey)] = session;
                _observations.Track(SessionIdFor(session.IdempotencyKey)).Created(session, scheduled, sent, acknowledged: false);
                return;
            }

            _observations.Errors.Add($"POST /v1/sessions {(int)ex.StatusCode}");
            _failedCreates.Add(session);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException)
        {
            _observations.Errors.Add($"POST /v1/sessions {ex.GetType().Name}");
            _failedCreates.Add(session);
        }
    }

    private async Task ReportProgressAsync(long start, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ProgressEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var offered = _observations.Sessions.Values.Count(t => t.FirstOfferTimestamp != 0);
                await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  t={Stopwatch.GetElapsedTime(start).TotalSeconds:0}s created={Volatile.Read(ref _created)} offered={offered} errors={_observations.Errors.Total} missed_offers={_observations.MissedOffers}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The arrival phase ended.
        }
    }

    /// <summary>Waits, at most --drain-s, until every created session has been ended by its agent and no agent is
    /// busy; then for the server's wrap-up timers.</summary>
    private async Task DrainAsync()
    {
        var drain = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(_options.DrainSeconds);
        var open = 0;
        while (true)
        {
            open = _observations.Sessions.Values.Count(t => t.Acknowledged && t.Ended == 0);
            if ((open == 0 && _observations.BusyAgents == 0) || drain.Elapsed >= limit)
            {
                break;
            }

            await Task.Delay(50, CancellationToken.None);
        }

        if (open == 0)
        {
            // Every session was ended by its agent: the server completes each after the queue's wrap-up time.
            await Task.Delay(TimeSpan.FromSeconds(_options.WrapUpSeconds) + TimeSpan.FromMilliseconds(250), CancellationToken.None);
        }

        await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Drained in {drain.Elapsed.TotalSeconds:0.0} s ({open} sessions not ended by an agent); checking every session and agent from the API."));
    }

    /// <summary>
    /// Reads every session and agent of the run back from the API and checks the invariants against them and
    /// against what the desktops saw; builds the report. Answers it with the session views (for the clean-up).
    /// </summary>
    private async Task<(LoadReport Report, IReadOnlyList<SessionView> Sessions)> CheckAsync(RoutingClient http, IReadOnlyList<SimulatedAgent> agents, IReadOnlyList<PlannedSession> plan, double arrivalSeconds, DateTimeOffset startedAt)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(120, plan.Count / 50)));
        var ct = timeout.Token;
        var examples = new List<string>();

        // Sessions whose create got no answer may exist all the same (the request reached the server).
        var failed = _failedCreates.ToList();
        var found = 0;
        foreach (var session in failed)
        {
            var id = SessionIdFor(session.IdempotencyKey);
            if (await GetSessionOrNullAsync(http, id, ct) is not null)
            {
                _observations.Track(id).Created(session, 0, 0, acknowledged: false);
                found++;
            }
        }

        var ours = _observations.Sessions.Values.Where(t => t.Plan is not null).ToList();
        var foreignOffers = _observations.Sessions.Values.Count(t => t.Plan is null);

        // Read every session; give those still moving (a wrap-up timer about to fire) a few seconds more.
        var views = new ConcurrentDictionary<string, SessionView?>(StringComparer.Ordinal);
        await ReadSessionsAsync(http, ours.Select(t => t.SessionId), views, ct);
        var settle = Stopwatch.StartNew();
        while (settle.Elapsed < TimeSpan.FromSeconds(5) && views.Any(v => v.Value is { } s && !s.State.IsTerminal() && s.State != SessionState.Queued))
        {
            await Task.Delay(250, ct);
            await ReadSessionsAsync(http, views.Where(v => v.Value is { } s && !s.State.IsTerminal()).Select(v => v.Key).ToList(), views, ct);
        }

        // Every agent of the run as it is now (and any other agent a session names).
        var agentViews = new ConcurrentDictionary<string, AgentView?>(StringComparer.Ordinal);
        var agentIds = agents.Select(a => a.AgentId)
            .Concat(views.Values.Where(v => v?.AgentId is not null && !v.State.IsTerminal()).Select(v => v!.AgentId!))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        await Parallel.ForEachAsync(agentIds, new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism, CancellationToken = ct }, async (agentId, token) =>
        {
            var view = await TimedHttpOrNull("GET /v1/agents/{id}", () => http.GetAgentAsync(agentId, token));
            agentViews[agentId] = view;
            if (view is not null)
            {
                _observations.CheckAgentView(view);
            }
        });

        var holders = agentViews.Values.Where(v => v is not null)
            .SelectMany(a => a!.Offers.Select(o => o.SessionId).Concat(a.Sessions.Select(s => s.SessionId)).Select(s => (Session: s, Agent: a.Id)))
            .GroupBy(x => x.Session, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Agent).Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        int lost = 0, doubleAssigned = 0, endedTwice = 0, unfinished = 0, completed = 0;
        foreach (var track in ours)
        {
            views.TryGetValue(track.SessionId, out var view);
            if (view is null)
            {
                // Absent from the views: it could not be read (an error, counted). Null: the server answered 404.
                if (views.ContainsKey(track.SessionId))
                {
                    lost++;
                    examples.Add($"lost: {track.SessionId} was created but GET answers 404");
                }

                continue;
            }

            var history = Invariants.CheckHistory(view);
            var overlap = Invariants.OverlappingOffers(track.Offers());
            var heldBy = holders.GetValueOrDefault(track.SessionId) ?? [];
            if (history.DoubleAssigned || overlap is not null || heldBy.Count > 1)
            {
                doubleAssigned++;
                examples.Add($"double assigned: {track.SessionId}: {history.Problem ?? overlap ?? $"held by {string.Join(" and ", heldBy)}"}");
            }

            if (history.EndedTwice)
            {
                endedTwice++;
                examples.Add($"ended twice: {track.SessionId}: {history.Problem}");
            }

            if (view.State == SessionState.Completed)
            {
                completed++;
            }

            if (!view.State.IsTerminal())
            {
                unfinished++;
                if (view.State != SessionState.Queued && (view.AgentId is null || !heldBy.Contains(view.AgentId, StringComparer.Ordinal)))
                {
                    // Said to be with an agent that does not hold it: read it once more (it may just have moved on).
                    var again = await GetSessionOrNullAsync(http, track.SessionId, ct);
                    if (again is null || (again.State == view.State && again.AgentId == view.AgentId))
                    {
                        lost++;
                        examples.Add($"lost: {track.SessionId} is {view.State} with {view.AgentId ?? "nobody"}, whose view does not hold it");
                    }
                }
            }
        }

        foreach (var track in ours.Where(t => t.Acknowledged && t.FirstOfferTimestamp != 0 && t.Plan!.AtSeconds >= _options.WarmupSeconds))
        {
            _observations.Latency.Record(OfferFromScheduled, track.FirstOfferTimestamp - track.ScheduledTimestamp);
            _observations.Latency.Record(OfferFromSend, track.FirstOfferTimestamp - track.SentTimestamp);
        }

        // The same latency over the run, in ten windows by scheduled time (warm-up included): shows a cold start or
        // a backlog building up, which one set of percentiles hides.
        var window = Math.Max(1, (int)Math.Ceiling(_options.DurationSeconds / 10.0));
        var byWindow = new LatencyBook();
        var windowNames = Enumerable.Range(0, (_options.DurationSeconds + window - 1) / window)
            .Select(w => string.Create(CultureInfo.InvariantCulture, $"{w * window}-{Math.Min((w + 1) * window, _options.DurationSeconds)} s"))
            .ToArray();
        foreach (var track in ours.Where(t => t.Acknowledged && t.FirstOfferTimestamp != 0))
        {
            byWindow.Record(windowNames[Math.Min((int)(track.Plan!.AtSeconds / window), windowNames.Length - 1)], track.FirstOfferTimestamp - track.ScheduledTimestamp);
        }

        var p99 = _observations.Latency.Summary(OfferFromScheduled) is { Count: > 0 } s99 ? s99.P99Ms : -1;
        var invariantExamples = examples.Concat(_observations.Examples).Take(20).ToList();
        var report = new LoadReport
        {
            RunId = _options.RunId,
            StartedAt = startedAt,
            CommandLine = "dotnet run -c Release --project loadtests/RoutingCluster.LoadTests -- " + string.Join(" ", _args),
            Machine = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}"),
            Settings = Settings(),
            Rates = new RateFigures(
                _options.Rate,
                Math.Round(plan.Count / (double)_options.DurationSeconds, 3),
                Math.Round(_created / Math.Max(arrivalSeconds, 0.001), 3),
                Math.Round(arrivalSeconds, 3)),
            Counts = new CountFigures
            {
                Planned = plan.Count,
                Created = _created,
                Refused = _refused.Count,
                CreateFailed = failed.Count,
                FoundAfterFailedCreate = found,
                Offered = ours.Count(t => t.FirstOfferTimestamp != 0),
                Completed = completed,
                Unfinished = unfinished,
                MissedOffers = _observations.MissedOffers,
                ForeignOffers = foreignOffers,
                AgentViewsChecked = _observations.AgentViewsChecked,
            },
            Latencies = _observations.Latency.Summaries(OfferFromScheduled, OfferFromSend, "accept -> connected", "POST /v1/sessions"),
            OfferByWindow = byWindow.Summaries(windowNames),
            Errors = _observations.Errors.Total,
            ErrorsByKind = _observations.Errors.ByKind(),
            Invariants = new InvariantFigures
            {
                Lost = lost,
                DoubleAssigned = doubleAssigned,
                OverCapacity = _observations.AgentsOverCapacity.Count,
                EndedTwice = endedTwice,
                Examples = invariantExamples,
            },
            P99OfferMs = p99,
        };
        return (report, [.. views.Values.Where(v => v is not null).Select(v => v!)]);
    }

    private async Task ReadSessionsAsync(RoutingClient http, IEnumerable<string> sessionIds, ConcurrentDictionary<string, SessionView?> views, CancellationToken ct) =>
        await Parallel.ForEachAsync(sessionIds, new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism, CancellationToken = ct }, async (id, token) =>
        {
            try
            {
                views[id] = await GetSessionOrNullAsync(http, id, token);
            }
            catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException)
            {
                // Counted as an error; the session is left out of the checks (it could not be read).
            }
        });

    private async Task<SessionView?> GetSessionOrNullAsync(RoutingClient http, string sessionId, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var view = await http.GetSessionAsync(sessionId, ct);
            _observations.Latency.Record("GET /v1/sessions/{id}", Stopwatch.GetTimestamp() - start);
            return view;
        }
        catch (RoutingApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            _observations.Latency.Record("GET /v1/sessions/{id}", Stopwatch.GetTimestamp() - start);
            return null;
        }
        catch (RoutingApiException ex)
        {
            _observations.Errors.Add($"GET /v1/sessions/{{id}} {(int)ex.StatusCode}");
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            _observations.Errors.Add($"GET /v1/sessions/{{id}} {ex.GetType().Name}");
            throw;
        }
    }

    /// <summary>Abandons what is still queued or offered, so the host is left without the run's waiting sessions.</summary>
    private async Task<int> CleanUpAsync(RoutingClient http, IReadOnlyList<SessionView> sessions)
    {
        var abandoned = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Parallel.ForEachAsync(
            sessions.Where(s => s.State is SessionState.Queued or SessionState.Offered),
            new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism, CancellationToken = timeout.Token },
            async (session, ct) =>
            {
                try
                {
                    await http.AbandonAsync(session.Id, ct);
                    Interlocked.Increment(ref abandoned);
                }
                catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException)
                {
                    // It moved on meanwhile (offered, connected): nothing to clean up.
                }
            });
        return abandoned;
    }

    private async Task WriteReportAsync(LoadReport report)
    {
        Directory.CreateDirectory(_options.OutDirectory);
        var markdown = Path.Combine(_options.OutDirectory, $"load-{_options.RunId}.md");
        var json = Path.Combine(_options.OutDirectory, $"load-{_options.RunId}.json");
        await File.WriteAllTextAsync(markdown, report.ToMarkdown(), CancellationToken.None);
        await File.WriteAllTextAsync(json, report.ToJson(), CancellationToken.None);

        var offer = report.Latencies.FirstOrDefault(l => l.Name == OfferFromScheduled);
        if (offer is not null)
        {
            await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"create -> offer from scheduled: p50 {offer.P50Ms} ms, p99 {offer.P99Ms} ms, p99.9 {offer.P999Ms} ms, max {offer.MaxMs} ms ({offer.Count} sessions)."));
        }

        foreach (var example in report.Invariants.Examples)
        {
            await _out.WriteLineAsync($"  {example}");
        }

        if (report.ErrorsByKind.Count > 0)
        {
            await _out.WriteLineAsync("Errors: " + string.Join(", ", report.ErrorsByKind.Select(e => $"{e.Key} x{e.Value}")));
        }

        await _out.WriteLineAsync($"Report: {markdown} and {json}");
        await _out.WriteLineAsync(report.ResultLine);
    }

    private Dictionary<string, string> Settings()
    {
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["target"] = _options.Target.ToString(),
            ["rate"] = F(_options.Rate),
            ["duration-s"] = F(_options.DurationSeconds),
            ["max-sessions"] = F(_options.MaxSessions),
            ["agents"] = F(_options.Agents),
            ["queues"] = F(_options.Queues),
            ["run-id"] = _options.RunId,
            ["seed"] = F(_options.Seed),
            ["channels"] = _options.Channels.ToString(),
            ["capacity"] = string.Join(",", _options.Capacity.Select(c => $"{Mixes.WireName(c.Key)}:{c.Value}")),
            ["skills"] = _options.Skills.ToString(),
            ["skill-level"] = F(_options.SkillLevel),
            ["cross-trained"] = F(_options.CrossTrained),
            ["elderly-share"] = F(_options.ElderlyShare),
            ["elderly-age"] = F(_options.ElderlyAge),
            ["segments"] = _options.DeclaredSegments.Count == 0 ? "none" : string.Join(",", _options.DeclaredSegments.Select(s => $"{s.Key.ToString().ToLowerInvariant()}:{F(s.Value)}")),
            ["accept-delay-ms"] = F(_options.AcceptDelayMs),
            ["talk-s"] = F(_options.TalkSeconds),
            ["wrap-up-s"] = F(_options.WrapUpSeconds),
            ["offer-timeout-s"] = F(_options.OfferTimeoutSeconds),
            ["drain-s"] = F(_options.DrainSeconds),
            ["warmup-s"] = F(_options.WarmupSeconds),
            ["agents needed on average (estimate)"] = _options.AgentsNeeded().ToString("0.0", CultureInfo.InvariantCulture),
        };
    }

    private async Task<T> TimedHttp<T>(string route, Func<Task<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await call();
            _observations.Latency.Record(route, Stopwatch.GetTimestamp() - start);
            return result;
        }
        catch (RoutingApiException ex)
        {
            _observations.Latency.Record(route, Stopwatch.GetTimestamp() - start);
            _observations.Errors.Add($"{route} {(int)ex.StatusCode}");
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            _observations.Errors.Add($"{route} {ex.GetType().Name}");
            throw;
        }
    }

    private async Task<T?> TimedHttpOrNull<T>(string route, Func<Task<T>> call)
        where T : class
    {
        try
        {
            return await TimedHttp(route, call);
        }
        catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException)
        {
            return null;
        }
    }
}
