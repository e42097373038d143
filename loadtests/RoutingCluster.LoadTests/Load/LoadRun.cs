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

    /// <summary>From the offer made (its <c>offeredAt</c>, the server's clock) to the desktop here that read it: the part
    /// of create -> offer spent pushing.</summary>
    public const string OfferMadeToDesktop = "offer made -> desktop";

    private const int SetupParallelism = 16;
    private const int CheckParallelism = 16;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    private readonly LoadOptions _options;
    private readonly IReadOnlyList<string> _args;
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly AcceptLog _accepts = new();
    private readonly Workload _workload;
    private LoadPhase _phase;
    private RoutingClient[] _clients = [];
    private HttpClient[] _connections = [];

    private LoadRun(LoadOptions options, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        _options = options;
        _args = args;
        _out = output;
        _error = error;
        _workload = new Workload(options);
        _phase = new LoadPhase("set-up", options.Rate, options.DurationSeconds, [], _accepts);
    }

    /// <summary>The observations of the stretch under way (the simulated agents record into it).</summary>
    private Observations Current => Volatile.Read(ref _phase).Observations;

    /// <summary>The first target's client: set-up, checks and clean-up go through it.</summary>
    private RoutingClient Http => _clients[0];

    /// <summary>Connections the driver opens to each target at most (see where the clients are made).</summary>
    public const int MaxConnectionsPerTarget = 512;

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

    /// <summary>The session id the server gives to a create of the driver's gateway (<see cref="LoadTokens.Gateway"/>)
    /// with this idempotency key (docs/api.md: 128 bits of the SHA-256 of the gateway and the key, then the owner tag),
    /// to look for sessions whose create got no answer.</summary>
    public static string SessionIdFor(string idempotencyKey)
    {
        const string gateway = LoadTokens.Gateway;
        var body = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{gateway.Length}:{gateway}\n{idempotencyKey}")).AsSpan(0, 16));
        var tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"routing-cluster session owner\n{gateway.Length}:{gateway}\n{body}")).AsSpan(0, 8));
        return "s-" + body + tag;
    }

    private async Task<int> RunAsync(CancellationToken stopArrivals)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var runClock = Stopwatch.StartNew();
        // A gateway keeps a bounded pool of connections. Without a bound, arrivals far beyond what the host serves open
        // a connection each while the earlier ones wait, until the process (the host's too, when both run in one
        // process) runs out of file descriptors.
        _connections = [.. _options.Targets.Select(_ => new HttpClient(
            new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), MaxConnectionsPerServer = MaxConnectionsPerTarget }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the client times each attempt itself
        })];
        _clients = [.. _options.Targets.Select((t, i) => new RoutingClient(_connections[i], new RoutingClientOptions { BaseAddress = t, AccessTokens = LoadTokens.Operator(t) }))];
        using var endOfRun = new CancellationTokenSource();
        var agents = new List<SimulatedAgent>(_options.Agents);
        StatsWatcher? watcher = null;
        try
        {
            var step = _options.Step;
            var single = step is null ? new LoadPhase("run", _options.Rate, _options.DurationSeconds, _workload.Sessions(), _accepts) : null;
            if (single is not null)
            {
                Volatile.Write(ref _phase, single);
            }

            var targets = _options.Targets.Count == 1 ? _options.Target.ToString() : string.Join(", ", _options.Targets);
            await _out.WriteLineAsync(step is null
                ? string.Create(CultureInfo.InvariantCulture,
                    $"Run {_options.RunId}: {_options.Rate}/s for {_options.DurationSeconds} s ({single!.Plan.Count} sessions planned) against {targets}, " +
                    $"{_options.Agents} agents, {_options.Queues} queue(s), channels {_options.Channels}, skills {_options.Skills}, elderly share {_options.ElderlyShare}.")
                : string.Create(CultureInfo.InvariantCulture,
                    $"Step run {_options.RunId}: {step} (rates {string.Join(", ", step.Rates())}) against {targets}, " +
                    $"{_options.Agents} agents{(_options.AgentsAuto ? " (auto)" : string.Empty)}, {_options.Queues} queue(s), channels {_options.Channels}, skills {_options.Skills}, elderly share {_options.ElderlyShare}."));
            var highest = step?.Rates() is { Count: > 0 } rates ? rates[^1] : _options.Rate;
            var needed = _options.AgentsNeeded(highest);
            if (needed > _options.Agents * 0.9)
            {
                await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Warning: the offered load needs about {needed:0} agents on average ({highest}/s x (accept {_options.AcceptDelayMs} ms + talk {_options.TalkSeconds} s + wrap-up {_options.WrapUpSeconds} s) / capacity), " +
                    $"and there are {_options.Agents}: sessions will wait for agents, and create -> offer will measure that wait."));
            }

            try
            {
                await SetUpAsync(agents, endOfRun.Token);
            }
            catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException or HubException or InvalidOperationException or IOException or OperationCanceledException)
            {
                await _error.WriteLineAsync($"Setup failed against {_options.Target}: {ex.Message}");
                return 4;
            }

            if (_options.WatchStats)
            {
                watcher = new StatsWatcher(_options.Target, $"lt-{_options.RunId}-q", TimeSpan.FromMilliseconds(_options.WatchEveryMs));
            }

            if (single is not null)
            {
                var measured = await MeasureAsync(single, stopArrivals, startedAt, watcher, settlePg: true);
                await endOfRun.CancelAsync();
                foreach (var agent in agents)
                {
                    agent.Finished = true;
                }

                var abandoned = await CleanUpAsync(measured.Sessions);
                var final = measured.Report with { Counts = measured.Report.Counts with { AbandonedAtEnd = abandoned } };
                await WriteReportAsync(final);
                return final.ExitCode;
            }

            return await RunStepsAsync(step!, stopArrivals, startedAt, runClock, watcher);
        }
        finally
        {
            if (watcher is not null)
            {
                await watcher.DisposeAsync();
            }

            await endOfRun.CancelAsync();
            using var logout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (agent, _) =>
            {
                await agent.LogOutAsync(logout.Token);
                await agent.DisposeAsync();
            });
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            foreach (var connections in _connections)
            {
                connections.Dispose();
            }
        }
    }

    /// <summary>What one measured stretch gave: its report (with resources and staleness) and the session views.</summary>
    private sealed record Measured(LoadReport Report, IReadOnlyList<ClientSessionView> Sessions);

    /// <summary>
    /// One measured stretch: reads the host counters, the database's and the CPU, runs the arrivals and the drain,
    /// reads them again, checks every session and agent from the API, and answers the report with what the
    /// stretch cost per completed lifecycle. With <paramref name="settlePg"/>, the database is read again after
    /// --pg-settle-s, before the checks, so that every server process has reported what it wrote.
    /// </summary>
    private async Task<Measured> MeasureAsync(LoadPhase phase, CancellationToken stopArrivals, DateTimeOffset startedAt, StatsWatcher? watcher, bool settlePg)
    {
        Volatile.Write(ref _phase, phase);
        var hostBefore = _options.HostMetrics ? await HostMetrics.ScrapeAsync(_options.Targets, CancellationToken.None) : null;
        var pgBefore = await ReadPgAsync();
        var cpuBefore = CpuSnapshot.Take();
        var arrival = await RunArrivalsAsync(phase, stopArrivals);
        await DrainAsync(phase);
        var cpuAfter = CpuSnapshot.Take();
        var hostAfter = _options.HostMetrics ? await HostMetrics.ScrapeAsync(_options.Targets, CancellationToken.None) : null;
        var pgAfter = await ReadPgAsync();
        if (settlePg && pgAfter is not null && _options.PgSettleSeconds > 0)
        {
            // Before the checks: they read every session, and a finished session that has left memory is read from
            // its row, which is the checks' cost, not the lifecycle's.
            await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Waiting {_options.PgSettleSeconds} s for PostgreSQL's counters to settle."));
            await Task.Delay(TimeSpan.FromSeconds(_options.PgSettleSeconds), CancellationToken.None);
            pgAfter = await ReadPgAsync();
        }

        var (report, sessions) = await CheckAsync(phase, arrival, startedAt);

        var resources = ResourceFigures.Between(cpuBefore, cpuAfter, report.Counts.Completed, hostBefore, hostAfter, pgBefore, pgAfter);
        var staleness = watcher is null ? null : Staleness.Summarize(watcher.Samples(), _accepts.Sorted(), cpuBefore.Timestamp, cpuAfter.Timestamp);
        return new Measured(report with { Resources = resources, Staleness = staleness }, sessions);
    }

    private async Task<PgSnapshot?> ReadPgAsync()
    {
        if (_options.PgStats is null)
        {
            return null;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await PgSnapshot.ReadAsync(_options.PgStats, timeout.Token);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or OperationCanceledException or ArgumentException)
        {
            await _error.WriteLineAsync($"--pg-stats: could not read pg_stat_user_tables: {ex.Message}");
            return null;
        }
    }

    /// <summary>The step mode (see <see cref="LoadOptions.Usage"/>): the steps one after the other, each drained
    /// and checked before the next, until one fails, the rates pass --step-max or the budget is spent.</summary>
    private async Task<int> RunStepsAsync(StepSettings step, CancellationToken stopArrivals, DateTimeOffset startedAt, Stopwatch runClock, StatsWatcher? watcher)
    {
        StepResult? warmup = null;
        if (step.WarmupSeconds > 0)
        {
            var phase = new LoadPhase("warm-up", step.FromRate, step.WarmupSeconds, _workload.Sessions(step.FromRate, step.WarmupSeconds, _options.Seed, "w-"), _accepts);
            await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Warm-up: {step.FromRate}/s for {step.WarmupSeconds} s ({phase.Plan.Count} sessions), not judged."));
            var measured = await MeasureAsync(phase, stopArrivals, startedAt, watcher, settlePg: false);
            await CleanUpAsync(measured.Sessions);
            warmup = StepResult.From(0, measured.Report, null, step.P99LimitMs);
            await _out.WriteLineAsync("  " + warmup.Describe());
        }

        var pgRunStart = await ReadPgAsync();
        var rates = step.Rates();
        var steps = new List<StepResult>();
        var retried = new List<StepResult>();
        string stoppedBy;
        for (var k = 0; ; k++)
        {
            var stop = StepJudge.StopBefore([.. steps.Select(s => (s.Rate, s.Verdict!))], k < rates.Count ? rates[k] : null, runClock.Elapsed, step.BudgetSeconds, stopArrivals.IsCancellationRequested);
            if (stop is not null)
            {
                stoppedBy = stop;
                break;
            }

            var rate = rates[k];
            for (var attempt = 1; ; attempt++)
            {
                var tag = attempt == 1 ? $"s{k + 1}-" : $"s{k + 1}r{attempt}-";
                var phase = new LoadPhase($"step {k + 1}", rate, step.StepSeconds, _workload.Sessions(rate, step.StepSeconds, unchecked(_options.Seed + k + 1 + (1000 * (attempt - 1))), tag), _accepts);
                await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Step {k + 1}{(attempt > 1 ? $" (attempt {attempt})" : string.Empty)}: {rate}/s for {step.StepSeconds} s ({phase.Plan.Count} sessions planned)."));
                var measured = await MeasureAsync(phase, stopArrivals, startedAt, watcher, settlePg: false);
                await CleanUpAsync(measured.Sessions);
                var verdict = StepJudge.Judge(StepResult.Figures(measured.Report), step.P99LimitMs);
                var result = StepResult.From(k + 1, measured.Report, verdict, step.P99LimitMs) with { Attempt = attempt };
                await _out.WriteLineAsync("  " + result.Describe());
                if (StepJudge.Retry(verdict, attempt, step.Retries) && !stopArrivals.IsCancellationRequested && runClock.Elapsed.TotalSeconds < step.BudgetSeconds)
                {
                    retried.Add(result);
                    continue;
                }

                steps.Add(result);
                break;
            }
        }

        PgWrites? pgRun = null;
        if (pgRunStart is not null && steps.Count > 0)
        {
            if (_options.PgSettleSeconds > 0)
            {
                await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Waiting {_options.PgSettleSeconds} s for PostgreSQL's counters to settle."));
                await Task.Delay(TimeSpan.FromSeconds(_options.PgSettleSeconds), CancellationToken.None);
            }

            if (await ReadPgAsync() is { } pgRunEnd)
            {
                pgRun = PgSnapshot.Delta(pgRunStart, pgRunEnd, steps.Concat(retried).Sum(s => s.Completed));
            }
        }

        var report = new StepRunReport
        {
            RunId = _options.RunId,
            StartedAt = startedAt,
            CommandLine = "dotnet run -c Release --project loadtests/RoutingCluster.LoadTests -- " + string.Join(" ", _args),
            Machine = MachineText(),
            Settings = Settings(null),
            Step = step,
            Warmup = warmup,
            Steps = steps,
            Retried = retried,
            StoppedBy = stoppedBy,
            PgWholeRun = pgRun,
            WallSeconds = Math.Round(runClock.Elapsed.TotalSeconds, 1),
        };
        Directory.CreateDirectory(_options.OutDirectory);
        var markdown = Path.Combine(_options.OutDirectory, $"load-{_options.RunId}.md");
        var json = Path.Combine(_options.OutDirectory, $"load-{_options.RunId}.json");
        await File.WriteAllTextAsync(markdown, report.ToMarkdown(), CancellationToken.None);
        await File.WriteAllTextAsync(json, report.ToJson(), CancellationToken.None);
        await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Highest sustainable rate: {report.MaxSustainablePerSecond}/s (stopped by {stoppedBy} after {steps.Count} steps, {report.WallSeconds} s)."));
        await _out.WriteLineAsync($"Report: {markdown} and {json}");
        await _out.WriteLineAsync(report.ResultLine);
        return report.ExitCode;
    }

    private static string MachineText() => string.Create(CultureInfo.InvariantCulture,
        $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");

    private async Task SetUpAsync(List<SimulatedAgent> agents, CancellationToken endOfRun)
    {
        var http = Http;
        var setup = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        for (var k = 0; k < _workload.QueueIds.Count; k++)
        {
            var queueId = _workload.QueueIds[k];
            var settings = _workload.QueueSettings(k + 1);
            await TimedHttp("PUT /v1/queues/{id}", () => http.PutQueueAsync(queueId, settings, timeout.Token));
        }

        // Each agent is configured through the silo its desktop connects to (agent i on the (i mod n)-th target), so
        // that its grain activates there, as an agent's does when its desktop is its first caller.
        var profiles = _workload.Agents();
        await Parallel.ForEachAsync(
            profiles.Select((agent, i) => (agent.Id, agent.Profile, Client: _clients[i % _clients.Length])),
            new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = timeout.Token },
            async (agent, ct) => await TimedHttp("PUT /v1/agents/{id}", () => agent.Client.PutAgentAsync(agent.Id, agent.Profile, ct)));

        var signedIn = new ConcurrentBag<SimulatedAgent>();
        try
        {
            await Parallel.ForEachAsync(
                profiles.Select((agent, i) => (agent.Id, Index: i)),
                new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = timeout.Token },
                async (agent, ct) =>
                {
                    var target = _options.Targets[agent.Index % _options.Targets.Count];
                    var simulated = new SimulatedAgent(agent.Id, target, _options, () => Current, unchecked((_options.Seed * 31) + agent.Index), endOfRun);
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
    private async Task<double> RunArrivalsAsync(LoadPhase phase, CancellationToken stopArrivals)
    {
        var plan = phase.Plan;
        var creates = new List<Task>(plan.Count);
        var start = Stopwatch.GetTimestamp();
        using var progress = new CancellationTokenSource();
        var reporter = ReportProgressAsync(phase, start, progress.Token);
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

                var http = _clients[session.Index % _clients.Length];
                creates.Add(Task.Run(() => CreateAsync(phase, http, session, due), CancellationToken.None));
            }

            // The arrival phase lasts the whole duration (a Poisson draw leaves a gap after the last arrival),
            // unless --max-sessions or a stop ended it early.
            var stoppedEarly = stopArrivals.IsCancellationRequested || creates.Count < plan.Count || plan.Count >= _options.MaxSessions;
            var arrivalSeconds = stoppedEarly ? Stopwatch.GetElapsedTime(start).TotalSeconds : phase.DurationSeconds;
            if (!stoppedEarly)
            {
                var rest = TimeSpan.FromSeconds(phase.DurationSeconds) - Stopwatch.GetElapsedTime(start);
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

    private static async Task CreateAsync(LoadPhase phase, RoutingClient http, PlannedSession session, long scheduled)
    {
        var observations = phase.Observations;
        var sent = Stopwatch.GetTimestamp();
        try
        {
            var created = await http.CreateSessionAsync(session.Request, session.IdempotencyKey);
            observations.Latency.Record("POST /v1/sessions", Stopwatch.GetTimestamp() - sent);
            observations.Track(created.Session.Id).Created(session, scheduled, sent, acknowledged: true);
            phase.CountCreated();
            if (session.Callback && created.Session.State == SessionState.Queued)
            {
                await RequestCallbackAsync(observations, http, created.Session.Id);
            }
        }
        catch (RoutingApiException ex)
        {
            observations.Latency.Record("POST /v1/sessions", Stopwatch.GetTimestamp() - sent);
            if (ex.IsQueueFull)
            {
                // Refused: the session exists (state refused) and is checked like the others.
                phase.Refused[SessionIdFor(session.IdempotencyKey)] = session;
                observations.Track(SessionIdFor(session.IdempotencyKey)).Created(session, scheduled, sent, acknowledged: false);
                return;
            }

            if (IsOverload(ex))
            {
                // Turned away under overload, after the client's retries: counted apart, never as a failure.
                phase.Shed.Add(session);
                return;
            }

            observations.Errors.Add($"POST /v1/sessions {(int)ex.StatusCode}");
            phase.FailedCreates.Add(session);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException)
        {
            observations.Errors.Add($"POST /v1/sessions {ex.GetType().Name}");
            phase.FailedCreates.Add(session);
        }
    }

    /// <summary>The customer leaves the line for a callback. A 409 is no error: an agent took the session meanwhile.</summary>
    private static async Task RequestCallbackAsync(Observations observations, RoutingClient http, string sessionId)
    {
        var sent = Stopwatch.GetTimestamp();
        try
        {
            await http.RequestCallbackAsync(sessionId);
            observations.Latency.Record("POST /v1/sessions/{id}/callback", Stopwatch.GetTimestamp() - sent);
        }
        catch (RoutingApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            observations.Latency.Record("POST /v1/sessions/{id}/callback", Stopwatch.GetTimestamp() - sent);
        }
        catch (RoutingApiException ex)
        {
            observations.Errors.Add($"POST /v1/sessions/{{id}}/callback {(int)ex.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException)
        {
            observations.Errors.Add($"POST /v1/sessions/{{id}}/callback {ex.GetType().Name}");
        }
    }

    /// <summary>A refusal by admission (503, problem type overloaded) or by a rate limit (429): the server took nothing.
    /// Other 503s (a silo or the database unavailable) stay failures.</summary>
    internal static bool IsOverload(RoutingApiException ex) =>
        ex.StatusCode == HttpStatusCode.TooManyRequests || ex.IsOverloaded;

    private async Task ReportProgressAsync(LoadPhase phase, long start, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ProgressEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var observations = phase.Observations;
                var offered = observations.Sessions.Values.Count(t => t.FirstOfferTimestamp != 0);
                await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  t={Stopwatch.GetElapsedTime(start).TotalSeconds:0}s created={phase.Created} offered={offered} errors={observations.Errors.Total} missed_offers={observations.MissedOffers}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The arrival phase ended.
        }
    }

    /// <summary>Waits, at most --drain-s, until every created session has been ended by its agent and no agent is
    /// busy; then for the server's wrap-up timers.</summary>
    private async Task DrainAsync(LoadPhase phase)
    {
        var observations = phase.Observations;
        var drain = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(_options.DrainSeconds);
        var open = 0;
        while (true)
        {
            open = observations.Sessions.Values.Count(t => t.Acknowledged && t.Ended == 0);
            if ((open == 0 && observations.BusyAgents == 0) || drain.Elapsed >= limit)
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
    private async Task<(LoadReport Report, IReadOnlyList<ClientSessionView> Sessions)> CheckAsync(LoadPhase phase, double arrivalSeconds, DateTimeOffset startedAt)
    {
        var http = Http;
        var plan = phase.Plan;
        var observations = phase.Observations;
        var options = _options with { Rate = phase.Rate, DurationSeconds = phase.DurationSeconds };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(120, plan.Count / 50)));
        var ct = timeout.Token;
        var examples = new List<string>();

        // Sessions whose create got no answer may exist all the same (the request reached the server); so may a shed
        // one, from an attempt before the refusal whose answer was lost.
        var failed = phase.FailedCreates.ToList();
        var shed = phase.Shed.ToList();
        var found = 0;
        foreach (var session in failed.Concat(shed))
        {
            var id = SessionIdFor(session.IdempotencyKey);
            if (await GetSessionOrNullAsync(http, id, ct) is not null)
            {
                observations.Track(id).Created(session, 0, 0, acknowledged: false);
                found++;
            }
        }

        var ours = observations.Sessions.Values.Where(t => t.Plan is not null).ToList();
        var foreignOffers = observations.Sessions.Values.Count(t => t.Plan is null);

        // Read every session; give those still moving (a wrap-up timer about to fire) a few seconds more.
        var views = new ConcurrentDictionary<string, ClientSessionView?>(StringComparer.Ordinal);
        await ReadSessionsAsync(http, ours.Select(t => t.SessionId), views, ct);
        var settle = Stopwatch.StartNew();
        while (settle.Elapsed < TimeSpan.FromSeconds(5) && views.Any(v => v.Value is { } s && !s.State.IsTerminal() && s.State != SessionState.Queued))
        {
            await Task.Delay(250, ct);
            await ReadSessionsAsync(http, views.Where(v => v.Value is { } s && !s.State.IsTerminal()).Select(v => v.Key).ToList(), views, ct);
        }

        // Every agent of the run as it is now (and any other agent a session names).
        var agentViews = new ConcurrentDictionary<string, AgentView?>(StringComparer.Ordinal);
        var agentIds = _workload.Agents().Select(a => a.Id)
            .Concat(views.Values.Where(v => v?.AgentId is not null && !v.State.IsTerminal()).Select(v => v!.AgentId!))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        await Parallel.ForEachAsync(agentIds, new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism, CancellationToken = ct }, async (agentId, token) =>
        {
            var view = await TimedHttpOrNull("GET /v1/agents/{id}", () => http.GetAgentAsync(agentId, token));
            agentViews[agentId] = view;
            if (view is not null)
            {
                observations.CheckAgentView(view);
            }
        });

        // Each view as holds on the server's clock: the views are read one after another while sessions still move, so
        // two views listing one session are a double hold only where the holds overlap in time (Invariants.HeldAtOnce).
        var holds = agentViews.Values.Where(v => v is not null)
            .SelectMany(a => a!.Offers.Select(o => (Session: o.SessionId, Hold: HoldFact.Of(o, a.Id)))
                .Concat(a.Sessions.Select(s => (Session: s.SessionId, Hold: HoldFact.Of(s, a.Id)))))
            .GroupBy(x => x.Session, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Hold).ToList(), StringComparer.Ordinal);
        var holders = holds.ToDictionary(h => h.Key, h => h.Value.Select(x => x.AgentId).Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        int lost = 0, doubleAssigned = 0, endedTwice = 0, unfinished = 0, completed = 0, completedInTime = 0, forgotten = 0;
        var inTime = options.InTimeMs * Stopwatch.Frequency / 1000;
        var checkedAt = Stopwatch.GetTimestamp();
        var retention = options.FinishedRetentionSeconds > 0
            ? (long)((options.FinishedRetentionSeconds - 1) * Stopwatch.Frequency)
            : long.MaxValue;
        bool ServedInTime(SessionTrack track) => track.Plan!.AtSeconds >= options.WarmupSeconds && track.FirstOfferTimestamp != 0
            && track.FirstOfferTimestamp - track.ScheduledTimestamp <= inTime;
        foreach (var track in ours)
        {
            views.TryGetValue(track.SessionId, out var view);
            if (view is null)
            {
                // Absent from the views: it could not be read (an error, counted). Null: the server answered 404.
                if (views.ContainsKey(track.SessionId) && track.EndedTimestamp != 0 && checkedAt - track.EndedTimestamp >= retention)
                {
                    // Ended by its agent longer ago than the host keeps finished sessions: forgotten as configured.
                    forgotten++;
                    completed++;
                    if (ServedInTime(track))
                    {
                        completedInTime++;
                    }
                }
                else if (views.ContainsKey(track.SessionId))
                {
                    lost++;
                    examples.Add($"lost: {track.SessionId} was created but GET answers 404");
                }

                continue;
            }

            var history = Invariants.CheckHistory(view);
            var overlap = Invariants.OverlappingOffers(track.Offers());
            var heldBy = holders.GetValueOrDefault(track.SessionId) ?? [];
            var heldAtOnce = heldBy.Count > 1 ? Invariants.HeldAtOnce(holds[track.SessionId]) : null;
            if (history.DoubleAssigned || overlap is not null || heldAtOnce is not null)
            {
                doubleAssigned++;
                examples.Add($"double assigned: {track.SessionId}: {history.Problem ?? overlap ?? heldAtOnce}");
            }

            if (history.EndedTwice)
            {
                endedTwice++;
                examples.Add($"ended twice: {track.SessionId}: {history.Problem}");
            }

            if (view.State == SessionState.Completed)
            {
                completed++;
                if (ServedInTime(track))
                {
                    completedInTime++;
                }
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

        foreach (var track in ours.Where(t => t.Acknowledged && t.FirstOfferTimestamp != 0 && t.Plan!.AtSeconds >= options.WarmupSeconds))
        {
            observations.Latency.Record(OfferFromScheduled, track.FirstOfferTimestamp - track.ScheduledTimestamp);
            observations.Latency.Record(OfferFromSend, track.FirstOfferTimestamp - track.SentTimestamp);
        }

        // The same latency over the run, in ten windows by scheduled time (warm-up included): shows a cold start or
        // a backlog building up, which one set of percentiles hides.
        var window = Math.Max(1, (int)Math.Ceiling(options.DurationSeconds / 10.0));
        var byWindow = new LatencyBook();
        var windowNames = Enumerable.Range(0, (options.DurationSeconds + window - 1) / window)
            .Select(w => string.Create(CultureInfo.InvariantCulture, $"{w * window}-{Math.Min((w + 1) * window, options.DurationSeconds)} s"))
            .ToArray();
        foreach (var track in ours.Where(t => t.Acknowledged && t.FirstOfferTimestamp != 0))
        {
            byWindow.Record(windowNames[Math.Min((int)(track.Plan!.AtSeconds / window), windowNames.Length - 1)], track.FirstOfferTimestamp - track.ScheduledTimestamp);
        }

        var p99 = observations.Latency.Summary(OfferFromScheduled) is { Count: > 0 } s99 ? s99.P99Ms : -1;
        var invariantExamples = examples.Concat(observations.Examples).Take(20).ToList();
        var report = new LoadReport
        {
            RunId = _options.RunId,
            StartedAt = startedAt,
            CommandLine = "dotnet run -c Release --project loadtests/RoutingCluster.LoadTests -- " + string.Join(" ", _args),
            Machine = MachineText(),
            Settings = Settings(phase),
            Rates = new RateFigures(
                phase.Rate,
                Math.Round(plan.Count / (double)options.DurationSeconds, 3),
                Math.Round(phase.Created / Math.Max(arrivalSeconds, 0.001), 3),
                Math.Round(arrivalSeconds, 3)),
            Counts = new CountFigures
            {
                Planned = plan.Count,
                Created = phase.Created,
                Refused = phase.Refused.Count,
                Shed = shed.Count,
                CreateFailed = failed.Count,
                FoundAfterFailedCreate = found,
                Offered = ours.Count(t => t.FirstOfferTimestamp != 0),
                Completed = completed,
                CompletedInTime = completedInTime,
                Forgotten = forgotten,
                Unfinished = unfinished,
                MissedOffers = observations.MissedOffers,
                ForeignOffers = foreignOffers,
                AgentViewsChecked = observations.AgentViewsChecked,
            },
            Latencies = observations.Latency.Summaries(OfferFromScheduled, OfferFromSend, OfferMadeToDesktop, "accept -> connected", "POST /v1/sessions"),
            OfferByWindow = byWindow.Summaries(windowNames),
            Errors = observations.Errors.Total,
            ErrorsByKind = observations.Errors.ByKind(),
            Invariants = new InvariantFigures
            {
                Lost = lost,
                DoubleAssigned = doubleAssigned,
                OverCapacity = observations.AgentsOverCapacity.Count,
                EndedTwice = endedTwice,
                Examples = invariantExamples,
            },
            P99OfferMs = p99,
        };
        return (report, [.. views.Values.Where(v => v is not null).Select(v => v!)]);
    }

    private async Task ReadSessionsAsync(RoutingClient http, IEnumerable<string> sessionIds, ConcurrentDictionary<string, ClientSessionView?> views, CancellationToken ct) =>
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

    private async Task<ClientSessionView?> GetSessionOrNullAsync(RoutingClient http, string sessionId, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var view = await http.GetSessionAsync(sessionId, ct);
            Current.Latency.Record("GET /v1/sessions/{id}", Stopwatch.GetTimestamp() - start);
            return view;
        }
        catch (RoutingApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            Current.Latency.Record("GET /v1/sessions/{id}", Stopwatch.GetTimestamp() - start);
            return null;
        }
        catch (RoutingApiException ex)
        {
            Current.Errors.Add($"GET /v1/sessions/{{id}} {(int)ex.StatusCode}");
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            Current.Errors.Add($"GET /v1/sessions/{{id}} {ex.GetType().Name}");
            throw;
        }
    }

    /// <summary>Abandons what is still queued or offered, so the host is left without the run's waiting sessions.</summary>
    private async Task<int> CleanUpAsync(IReadOnlyList<ClientSessionView> sessions)
    {
        var http = Http;
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

    private Dictionary<string, string> Settings(LoadPhase? phase)
    {
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["target"] = string.Join(",", _options.Targets),
            ["rate"] = phase is null ? "(steps)" : F(phase.Rate),
            ["duration-s"] = F(phase?.DurationSeconds ?? _options.DurationSeconds),
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
            ["callback-share"] = F(_options.CallbackShare),
            ["segments"] = _options.DeclaredSegments.Count == 0 ? "none" : string.Join(",", _options.DeclaredSegments.Select(s => $"{WireNames<Segment>.Of(s.Key)}:{F(s.Value)}")),
            ["accept-delay-ms"] = F(_options.AcceptDelayMs),
            ["talk-s"] = F(_options.TalkSeconds),
            ["wrap-up-s"] = F(_options.WrapUpSeconds),
            ["offer-timeout-s"] = F(_options.OfferTimeoutSeconds),
            ["drain-s"] = F(_options.DrainSeconds),
            ["warmup-s"] = F(_options.WarmupSeconds),
            ["agents needed on average (estimate)"] = _options.AgentsNeeded(phase?.Rate ?? _options.Step?.Rates().LastOrDefault() ?? _options.Rate).ToString("0.0", CultureInfo.InvariantCulture),
            ["host-metrics"] = _options.HostMetrics ? "on" : "off",
            ["pg-stats"] = _options.PgStats is null ? "off" : "on",
            ["watch-stats"] = _options.WatchStats ? F(_options.WatchEveryMs) + " ms" : "off",
        };
        if (_options.Step is { } step)
        {
            settings["step"] = step.ToString();
            settings["step-warmup-s"] = F(step.WarmupSeconds);
            settings["step-budget-s"] = F(step.BudgetSeconds);
        }

        return settings;
    }

    private async Task<T> TimedHttp<T>(string route, Func<Task<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await call();
            Current.Latency.Record(route, Stopwatch.GetTimestamp() - start);
            return result;
        }
        catch (RoutingApiException ex)
        {
            Current.Latency.Record(route, Stopwatch.GetTimestamp() - start);
            Current.Errors.Add($"{route} {(int)ex.StatusCode}");
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            Current.Errors.Add($"{route} {ex.GetType().Name}");
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
