using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>Runs alone, after the other classes: three silos and a randomized run would slow their timings down.</summary>
[CollectionDefinition(nameof(StatsReconciliationCollection), DisableParallelization = true)]
public sealed class StatsReconciliationCollection;

/// <summary>
/// Reconciliation of the live KPIs across three silos: a randomized run of
/// sessions spread over three silo hosts of one cluster (postgres membership and storage, in this process), simulated
/// agents who accept, reject, miss, talk, transfer and wrap up, customers who abandon, full queues that refuse and
/// overflow. Afterwards every session KPI recomputed from the stored session records (<c>routing_session</c>) equals
/// the live figures on each of the three silos, and the sum of the persisted intervals (<c>routing_interval</c>) to
/// the tick; the persisted intervals equal the live figures including agent time; and the day's figures survive a
/// full restart of the cluster.
/// </summary>
/// <remarks>
/// No assertion is about timing: every wait polls for the expected state under a generous deadline, and the
/// staleness is measured and written to the output, not asserted. The run is driven by a seeded random plan (what
/// each session is, when it is created, whether it is abandoned, each agent's decisions); thread timing still
/// varies from run to run, so the numbers printed differ slightly.
/// </remarks>
[Collection(nameof(StatsReconciliationCollection))]
public sealed class StatsReconciliationTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    private const int Seed = 20261123;
    private const int Silos = 3;
    private const int SessionCount = 120;
    private const string Main = "r-main";
    private const string Over = "r-over";

    private static readonly TimeSpan TrafficFor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AgentPollEvery = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StartWithin = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan DrainWithin = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan ConvergeWithin = TimeSpan.FromSeconds(20);

    /// <summary>Service-level thresholds: r-main's 2 s puts some answers inside and some outside.</summary>
    private static readonly Dictionary<string, double> ServiceLevelSeconds = new(StringComparer.Ordinal) { [Main] = 2, [Over] = 3 };

    /// <summary>r-main is small (8 waiting or being offered) with a 3-s max wait, both overflowing to r-over; r-over is
    /// small too (12) and has nowhere to go: it refuses, and ends sessions "overflowed" after 4 s. Short offers (1.5 s) so
    /// that a missed offer comes back soon. Both keep the default elderly age (65).</summary>
    private static readonly (string Id, string Json)[] QueueConfigs =
    [
        (Over, """{ "name": "Recon overflow", "serviceLevelSeconds": 3, "offerTimeoutSeconds": 1.5, "wrapUpSeconds": 0.2, "maxWaiting": 12, "maxWaitSeconds": 4 }"""),
        (Main, """{ "name": "Recon main", "serviceLevelSeconds": 2, "offerTimeoutSeconds": 1.5, "wrapUpSeconds": 0.3, "maxWaiting": 8, "maxWaitSeconds": 3, "overflowQueueId": "r-over" }"""),
    ];

    private static readonly (string Id, string[] Queues)[] Agents =
    [
        ("r-a1", [Main]), ("r-a2", [Main]), ("r-a3", [Main]), ("r-a4", [Main]),
        ("r-a5", [Main, Over]), ("r-a6", [Main, Over]), ("r-a7", [Over]), ("r-a8", [Over]),
    ];

    [Fact]
    public async Task RandomizedRunOverThreeSilos_EverySessionKpiEqualsTheRecomputationFromTheSessionRecords_OnEverySilo_AndThePersistedIntervals_AndSurvivesAFullRestart()
    {
        var total = Stopwatch.StartNew();
        var connectionString = await postgres.CreateSchemaAsync("recon");
        var extra = new Dictionary<string, string>(StringComparer.Ordinal) { ["Stats:PersistInterval"] = "00:00:01" };
        var settings = HostSettings.ForCluster(connectionString, Silos).Select(s => s with { Extra = extra }).ToArray();
        var hosts = new List<SiloHostFactory>();
        using var stopAgents = new CancellationTokenSource();
        var agentTasks = new List<Task>();
        try
        {
            // ---- three silos of one cluster ----
            var apis = new HostApi[Silos];
            for (var i = 0; i < Silos; i++)
            {
                // One after the other: the first migrates the schema; each joins the membership the previous ones formed.
                var host = RecoveryHost.Create(settings[i]);
                hosts.Add(host);
                var client = host.CreateClient();
                client.Timeout = TimeSpan.FromSeconds(30);
                apis[i] = new HostApi(client);
                await WaitReadyAsync(apis[i], StartWithin);
            }

            await WaitForActiveSilosAsync(connectionString, Silos, StartWithin);
            output.WriteLine($"{Silos} silos of one cluster ready in {total.ElapsedMilliseconds} ms (silo ports {string.Join(", ", settings.Select(s => s.SiloPort))})");

            // ---- queues and agents, written through different silos ----
            foreach (var (id, json) in QueueConfigs)
            {
                await apis[0].PutQueue(id, json);
            }

            for (var i = 0; i < Agents.Length; i++)
            {
                var (id, queues) = Agents[i];
                var profile = $$"""{ "name": "Agent {{id}}", "skills": { "cards": 4 }, "queues": [ {{string.Join(", ", queues.Select(q => $"\"{q}\""))}} ], "capacity": { "voice": 1, "chat": 2 } }""";
                (await apis[i % Silos].Put($"/v1/agents/{id}", profile)).Success();
                await apis[(i + 1) % Silos].SetState(id, "ready");
            }

            // ---- the randomized run ----
            var traffic = new Traffic();
            var runStart = Stopwatch.StartNew();
            agentTasks.AddRange(Agents.Select((a, i) => Task.Run(() => RunAgentAsync(a.Id, new Random(Seed + 1 + i), apis, traffic, stopAgents.Token))));
            var plan = new Random(Seed);
            var creates = new List<Task>();
            for (var i = 0; i < SessionCount; i++)
            {
                var spec = new SessionSpec(
                    i,
                    Host: i % Silos,
                    Queue: plan.NextDouble() < 0.85 ? Main : Over,
                    Channel: plan.NextDouble() < 0.6 ? "voice" : "chat",
                    Age: plan.NextDouble() < 0.3 ? 65 + plan.Next(30) : 18 + plan.Next(47),
                    AbandonAfter: plan.NextDouble() < 0.18 ? TimeSpan.FromSeconds(0.2 + (plan.NextDouble() * 2.3)) : null,
                    AbandonHost: plan.Next(Silos));
                creates.Add(Task.Run(() => CreateAsync(spec, apis, traffic)));
                var wait = (TrafficFor * (i + 1) / SessionCount) - runStart.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
            }

            await Task.WhenAll(creates).WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"{SessionCount} creates answered in {runStart.ElapsedMilliseconds} ms");
            Assert.True(traffic.Unexpected.IsEmpty, string.Join("\n", traffic.Unexpected));

            // Every session reaches its final state (agents keep working meanwhile).
            await WaitAllTerminalAsync(connectionString, traffic.Created + traffic.Refused, DrainWithin, apis[0], traffic);
            output.WriteLine($"all sessions final {runStart.ElapsedMilliseconds} ms after the first create");
            await stopAgents.CancelAsync();
            await Task.WhenAll(agentTasks).WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"driver: {traffic}");

            // ---- (a) recomputed from the session records = live, on each silo ----
            var rows = await StoredSessions.ReadAllAsync(connectionString);
            Assert.All(rows, r => Assert.True(r.IsTerminal, $"{r.Id} is {r.State}"));
            var recomputed = KpiRecompute.From(rows, ServiceLevelSeconds);
            output.WriteLine($"recomputed from routing_session: {recomputed}");
            foreach (var note in traffic.Notes.Take(5))
            {
                output.WriteLine($"note: {note}");
            }

            Assert.True(recomputed.Answers > 0 && recomputed.Transfers > 0 && recomputed.Abandons > 0
                && recomputed.OverflowsToAnotherQueue + recomputed.OverflowsTerminal > 0 && recomputed.RefusedOutright + recomputed.RefusedIntoOverflow > 0,
                $"the run should exercise every path: {recomputed}");

            var from = KpiIntervals.Start(rows.Min(r => r.History[0].At));
            var to = DateTimeOffset.UtcNow.AddHours(1);     // explicit: the same range before and after the restart, whatever the day
            var queueIds = new[] { Main, Over };
            var fromRecords = KpiModel.From(recomputed.QueueCells, recomputed.AgentCells);
            var firstCheck = DateTimeOffset.UtcNow - recomputed.LastTransition;
            var (_, checks) = await ConvergeAsync("live session figures on every silo = the recomputation from the session records", async () =>
            {
                var lives = await Task.WhenAll(apis.Select(a => LiveStats.ReadAsync(a, queueIds, from, to)));
                return [.. lives.SelectMany((live, i) => fromRecords.Differences(live, KpiModel.SessionFields).Select(d => $"silo {i}: {d}"))];
            });

            // Measured from the last transition in the records to the end of the first check that found every silo up to date.
            var staleness = DateTimeOffset.UtcNow - recomputed.LastTransition;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"staleness: every silo's live figures equal the recomputation {staleness.TotalMilliseconds:F0} ms after the last session ended "
                + $"(the first check started {firstCheck.TotalMilliseconds:F0} ms after it; {checks} check(s) of {Silos} silos x 7 queries)"));

            // ---- agents log out: no agent time is running any more ----
            for (var i = 0; i < Agents.Length; i++)
            {
                await LogOutAsync(apis[i % Silos], Agents[i].Id);
            }

            // ---- (b) persisted intervals = recomputation (session counts, exact ticks) and = live (everything) ----
            KpiModel? persistedModel = null;
            LiveStats[] livesAfterLogout = [];
            var (_, persistChecks) = await ConvergeAsync("routing_interval = the recomputation (session counts, to the tick), and = the live figures on every silo (agent time too)", async () =>
            {
                var persisted = await PersistedIntervals.ReadAsync(connectionString);
                var diffs = KpiModel.CellDifferences("queue cell", recomputed.QueueCells, persisted.QueueCells, c => c.SessionPart());
                diffs.AddRange(KpiModel.CellDifferences("agent cell", recomputed.AgentCells, persisted.AgentCells, c => c.SessionPart()));
                persistedModel = KpiModel.From(persisted.QueueCells, persisted.AgentCells);
                livesAfterLogout = await Task.WhenAll(apis.Select(a => LiveStats.ReadAsync(a, queueIds, from, to)));
                diffs.AddRange(livesAfterLogout.SelectMany((live, i) => persistedModel.Differences(live, KpiModel.AllFields).Select(d => $"silo {i}: {d}")));
                return diffs;
            });
            output.WriteLine($"persisted intervals equal the recomputation and the live figures after {persistChecks} check(s)");

            // ---- (c) agent time is there and consistent ----
            var clusterTotal = livesAfterLogout[0].Cluster["queue"]["total"]!;
            Assert.True(Num(clusterTotal, "loggedInHours") > 0, clusterTotal.ToJsonString());
            Assert.InRange(Num(clusterTotal, "occupancy"), double.Epsilon, 1);
            foreach (var agent in livesAfterLogout[0].Cluster["agent"]["groups"]!.AsArray())
            {
                Assert.True(Num(agent!, "loggedInHours") > 0, agent!.ToJsonString());
                Assert.InRange(Num(agent!, "occupancy"), 0, 1);
            }

            Assert.Equal(Agents.Select(a => a.Id).Order(StringComparer.Ordinal), livesAfterLogout[0].Cluster["agent"]["groups"]!.AsArray().Select(g => HostApi.Str(g!, "key")).Order(StringComparer.Ordinal));
            WriteFigures(livesAfterLogout[0]);
            foreach (var (host, i) in hosts.Select((h, i) => (h, i)))
            {
                Assert.True(host.Failures.IsEmpty, $"silo {i} had unhandled exceptions: {string.Join("; ", host.Failures.Select(f => $"{f.Path}: {f.Exception.Message}"))}");
            }

            // ---- (d) a full restart: all three stop, one starts on the same database ----
            var beforeRestart = livesAfterLogout[0];
            var stopClock = Stopwatch.StartNew();
            for (var i = hosts.Count - 1; i >= 0; i--)
            {
                await hosts[i].DisposeAsync();
                hosts.RemoveAt(i);
            }

            output.WriteLine($"all {Silos} silos stopped in {stopClock.ElapsedMilliseconds} ms");
            stopClock.Restart();
            var restarted = RecoveryHost.Create(settings[0]);
            hosts.Add(restarted);
            var again = new HostApi(restarted.CreateClient());
            await WaitReadyAsync(again, StartWithin);
            output.WriteLine($"one silo restarted and ready in {stopClock.ElapsedMilliseconds} ms");
            var (_, restartChecks) = await ConvergeAsync("after the full restart: the day's figures as before (agent time too)", async () =>
            {
                var after = await LiveStats.ReadAsync(again, queueIds, from, to);
                var diffs = persistedModel!.Differences(after, KpiModel.AllFields);
                diffs.AddRange(SameFigures("stats?groupBy=queue", beforeRestart.Cluster["queue"], after.Cluster["queue"]));
                diffs.AddRange(SameFigures("stats?groupBy=agent", beforeRestart.Cluster["agent"], after.Cluster["agent"]));
                return diffs;
            });
            output.WriteLine($"after the restart the figures are as before (every query, agent time too) at check {restartChecks}");

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"SUMMARY: {recomputed.Sessions} sessions, {recomputed.Legs} legs, {recomputed.Answers} answered, {recomputed.Transfers} transfers, "
                + $"{recomputed.OverflowsToAnotherQueue + recomputed.OverflowsTerminal} overflows ({recomputed.OverflowsToAnotherQueue} to another queue, {recomputed.OverflowsTerminal} ended overflowed), "
                + $"{recomputed.RefusedOutright + recomputed.RefusedIntoOverflow} refusals ({recomputed.RefusedIntoOverflow} into the overflow queue), {recomputed.Abandons} abandoned, "
                + $"{recomputed.OffersReturned} offers rejected or missed; staleness {staleness.TotalMilliseconds:F0} ms; test {total.Elapsed.TotalSeconds:F1} s"));
        }
        finally
        {
            // On a failure midway, the simulated agents stop before the silos they call.
            await stopAgents.CancelAsync();
            await Task.WhenAny(Task.WhenAll(agentTasks), Task.Delay(TimeSpan.FromSeconds(10)));
            foreach (var host in Enumerable.Reverse(hosts))
            {
                await host.DisposeAsync();
            }
        }
    }

    // ------------------------------------------------------------------ the simulated customers and agents

    private sealed record SessionSpec(int Index, int Host, string Queue, string Channel, int Age, TimeSpan? AbandonAfter, int AbandonHost);

    /// <summary>What the driver pushed through (counted from the HTTP answers).</summary>
    private sealed class Traffic
    {
        private int _created, _refused, _createRetries, _abandoned, _abandonTooLate, _accepted, _rejected, _ignored, _transfers, _ends, _wrapUpsCut, _readyAgain, _breaks, _late, _agentErrors;

        public ConcurrentDictionary<string, bool> Transferred { get; } = new(StringComparer.Ordinal);

        /// <summary>Offers left to time out: session → agent.</summary>
        public ConcurrentDictionary<string, string> IgnoredOffers { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> Unexpected { get; } = new();

        /// <summary>Refusals worth reading in the output (a transfer to a full queue, ...).</summary>
        public ConcurrentQueue<string> Notes { get; } = new();

        public int Created => _created;

        public int Refused => _refused;

        public void Count(string what)
        {
            switch (what)
            {
                case "created": Interlocked.Increment(ref _created); break;
                case "refused": Interlocked.Increment(ref _refused); break;
                case "create-retry": Interlocked.Increment(ref _createRetries); break;
                case "abandoned": Interlocked.Increment(ref _abandoned); break;
                case "abandon-too-late": Interlocked.Increment(ref _abandonTooLate); break;
                case "accepted": Interlocked.Increment(ref _accepted); break;
                case "rejected": Interlocked.Increment(ref _rejected); break;
                case "ignored": Interlocked.Increment(ref _ignored); break;
                case "transferred": Interlocked.Increment(ref _transfers); break;
                case "ended": Interlocked.Increment(ref _ends); break;
                case "wrap-up-cut": Interlocked.Increment(ref _wrapUpsCut); break;
                case "ready-again": Interlocked.Increment(ref _readyAgain); break;
                case "break": Interlocked.Increment(ref _breaks); break;
                case "late": Interlocked.Increment(ref _late); break;
                default: Interlocked.Increment(ref _agentErrors); break;
            }
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{_created} created, {_refused} refused (409 queue full), {_createRetries} create retries, {_abandoned} abandoned ({_abandonTooLate} too late), "
            + $"{_accepted} offers accepted, {_rejected} rejected, {_ignored} left to time out, {_transfers} transfers, {_ends} ended, "
            + $"{_wrapUpsCut} wrap-ups cut short, {_breaks} breaks, {_readyAgain} back to ready, {_late} answers too late (409), {_agentErrors} request errors, {Unexpected.Count} unexpected answers");
    }

    private static async Task CreateAsync(SessionSpec spec, HostApi[] apis, Traffic traffic)
    {
        var body = $$"""{ "queueId": "{{spec.Queue}}", "channel": "{{spec.Channel}}", "customer": { "id": "c-recon-{{spec.Index}}", "age": {{spec.Age}} }, "skills": { "cards": 2 } }""";
        var key = string.Create(CultureInfo.InvariantCulture, $"recon-{Seed}-{spec.Index}");
        string? id = null;
        for (var attempt = 0; id is null; attempt++)
        {
            Reply reply;
            try
            {
                reply = await apis[(spec.Host + attempt) % apis.Length].Post("/v1/sessions", body, key);
            }
            catch (Exception ex) when (attempt < 5 && ex is HttpRequestException or TaskCanceledException)
            {
                traffic.Count("create-retry");
                await Task.Delay(200);
                continue;
            }

            if (reply.IsSuccess)
            {
                var view = reply.Success();
                if (HostApi.Str(view, "state") == "refused")
                {
                    traffic.Count("refused"); // a retry of a create that was refused
                    return;
                }

                id = HostApi.Str(view, "id");
                traffic.Count("created");
            }
            else if (reply.Status == HttpStatusCode.Conflict && reply.Json?["type"]?.GetValue<string>() == "urn:routing-cluster:problem:queue-full")
            {
                traffic.Count("refused");
                return;
            }
            else if ((int)reply.Status >= 500 && attempt < 5)
            {
                traffic.Count("create-retry");
                await Task.Delay(200);
            }
            else
            {
                traffic.Unexpected.Enqueue($"create {spec.Index}: {(int)reply.Status} {reply.Body}");
                return;
            }
        }

        if (spec.AbandonAfter is { } after)
        {
            await Task.Delay(after);
            var reply = await apis[spec.AbandonHost].Post($"/v1/sessions/{id}/abandon");
            traffic.Count(reply.IsSuccess ? "abandoned" : reply.Status == HttpStatusCode.Conflict ? "abandon-too-late" : "error");
        }
    }

    /// <summary>
    /// One agent desktop: polls its view on a random silo; accepts most offers, rejects some, leaves a few to time out
    /// (then the agent is not ready, "missed-offer", and makes itself ready again); talks 0.2–1.2 s, then ends the
    /// session, or (20%) transfers it to the other queue (at most once per session); sometimes cuts a wrap-up short
    /// and sometimes takes a short break.
    /// </summary>
    private static async Task RunAgentAsync(string agentId, Random rng, HostApi[] apis, Traffic traffic, CancellationToken stop)
    {
        var plans = new Dictionary<string, (DateTime Due, bool Transfer)>(StringComparer.Ordinal);
        var ignored = new HashSet<string>(StringComparer.Ordinal);
        var wrapUpsSeen = new HashSet<string>(StringComparer.Ordinal);
        DateTime? breakUntil = null;
        (DateTime, bool) NewPlan() => (DateTime.UtcNow + TimeSpan.FromSeconds(0.2 + rng.NextDouble()), rng.NextDouble() < 0.2);

        while (!stop.IsCancellationRequested)
        {
            var api = apis[rng.Next(apis.Length)];
            try
            {
                var reply = await api.Get($"/v1/agents/{agentId}");
                if (reply.IsSuccess && reply.Json is { } view)
                {
                    var now = DateTime.UtcNow;
                    var state = HostApi.Str(view, "state");
                    var offers = view["offers"]!.AsArray();
                    var sessions = view["sessions"]!.AsArray();
                    if (state == "not-ready" && (breakUntil is null || now >= breakUntil))
                    {
                        breakUntil = null;
                        var ready = await api.Post($"/v1/agents/{agentId}/state", """{ "state": "ready" }""");
                        traffic.Count(ready.IsSuccess ? "ready-again" : "error");
                    }
                    else if (state == "ready" && offers.Count == 0 && sessions.Count == 0 && rng.NextDouble() < 0.01)
                    {
                        breakUntil = now + TimeSpan.FromSeconds(0.3 + (rng.NextDouble() * 0.5));
                        var pause = await api.Post($"/v1/agents/{agentId}/state", """{ "state": "not-ready", "reason": "break" }""");
                        traffic.Count(pause.IsSuccess ? "break" : "error");
                    }

                    foreach (var offer in offers)
                    {
                        var sessionId = HostApi.Str(offer!, "sessionId");
                        if (ignored.Contains(sessionId))
                        {
                            continue;
                        }

                        var roll = rng.NextDouble();
                        if (roll < 0.04)
                        {
                            ignored.Add(sessionId);
                            traffic.Count("ignored");
                            traffic.IgnoredOffers[sessionId] = agentId;
                        }
                        else if (roll < 0.14)
                        {
                            var rejected = await api.Post($"/v1/agents/{agentId}/offers/{sessionId}/reject");
                            traffic.Count(rejected.IsSuccess ? "rejected" : "late");
                        }
                        else
                        {
                            var accepted = await api.Post($"/v1/agents/{agentId}/offers/{sessionId}/accept");
                            if (accepted.IsSuccess)
                            {
                                traffic.Count("accepted");
                                plans[sessionId] = NewPlan();
                            }
                            else
                            {
                                traffic.Count("late"); // the offer expired (or was withdrawn) before the accept landed
                            }
                        }
                    }

                    foreach (var held in sessions)
                    {
                        var sessionId = HostApi.Str(held!, "sessionId");
                        var heldState = HostApi.Str(held!, "state");
                        if (heldState == "connected")
                        {
                            if (!plans.TryGetValue(sessionId, out var plan))
                            {
                                plans[sessionId] = plan = NewPlan();
                            }

                            if (now < plan.Due)
                            {
                                continue;
                            }

                            if (plan.Transfer && traffic.Transferred.TryAdd(sessionId, true))
                            {
                                var target = HostApi.Str(held!, "queueId") == Main ? Over : Main;
                                var moved = await api.Post($"/v1/sessions/{sessionId}/transfer", $$"""{ "queueId": "{{target}}" }""");
                                if (!moved.IsSuccess)
                                {
                                    traffic.Notes.Enqueue($"transfer {sessionId} by {agentId}: {(int)moved.Status} {moved.Body}");
                                }
                                else
                                {
                                    traffic.Count("transferred");
                                    plans.Remove(sessionId);
                                    continue;
                                }
                            }

                            var ended = await api.Post($"/v1/agents/{agentId}/sessions/{sessionId}/end");
                            if (ended.IsSuccess)
                            {
                                traffic.Count("ended");
                                plans.Remove(sessionId);
                            }
                        }
                        else if (heldState == "wrap-up" && wrapUpsSeen.Add(sessionId) && rng.NextDouble() < 0.15)
                        {
                            var cut = await api.Post($"/v1/agents/{agentId}/sessions/{sessionId}/wrap-up-done");
                            traffic.Count(cut.IsSuccess ? "wrap-up-cut" : "late");
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                traffic.Count("error");
            }

            try
            {
                await Task.Delay(AgentPollEvery, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static async Task LogOutAsync(HostApi api, string agentId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            // Conflict while it still holds a session that has just completed (its wrap-up lets go right after).
            var reply = await api.Post($"/v1/agents/{agentId}/state", """{ "state": "logged-out" }""");
            if (reply.IsSuccess)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Agent {agentId} could not log out: {(int)reply.Status} {reply.Body}");
            }

            await Task.Delay(100);
        }
    }

    // ------------------------------------------------------------------ waiting and comparing

    /// <summary>Polls <paramref name="differences"/> until it finds none; returns how long that took and how many checks.</summary>
    private async Task<(TimeSpan Took, int Checks)> ConvergeAsync(string what, Func<Task<List<string>>> differences)
    {
        var clock = Stopwatch.StartNew();
        for (var checks = 1; ; checks++)
        {
            var diffs = await differences();
            if (diffs.Count == 0)
            {
                return (clock.Elapsed, checks);
            }

            if (clock.Elapsed > ConvergeWithin)
            {
                var shown = string.Join("\n  ", diffs.Take(40));
                output.WriteLine($"NOT CONVERGED: {what}; {diffs.Count} difference(s) after {checks} checks:\n  {shown}");
                Assert.Fail($"Not within {ConvergeWithin}: {what}. {diffs.Count} difference(s), first:\n  {shown}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task WaitReadyAsync(HostApi api, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var reply = await api.Get("/health/ready");
            if (reply.IsSuccess)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Silo not ready within {within}: {(int)reply.Status} {reply.Body}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>One cluster: this schema's membership table lists all silos as Active (3).</summary>
    private static async Task WaitForActiveSilosAsync(string connectionString, int silos, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT count(*) FROM routing_membership WHERE status = 3", connection);
                var active = (long)(await command.ExecuteScalarAsync())!;
                if (active == silos)
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{active} active silos in the membership, not {silos}, within {within}");
                }
            }

            await Task.Delay(200);
        }
    }

    private async Task WaitAllTerminalAsync(string connectionString, int expectedRows, TimeSpan within, HostApi api, Traffic traffic)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var rows = await StoredSessions.ReadAllAsync(connectionString);
            var open = rows.Where(r => !r.IsTerminal).ToList();
            if (open.Count == 0 && rows.Count >= expectedRows)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                foreach (var row in open.Take(10))
                {
                    var ignoredBy = traffic.IgnoredOffers.GetValueOrDefault(row.Id);
                    var steps = string.Join(" > ", row.History.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.State}@{h.Queue}/{h.Agent} {h.At:HH:mm:ss.fff}")));
                    output.WriteLine($"still {row.State}: {row.Id} {steps}{(ignoredBy is null ? string.Empty : $" (an offer to {ignoredBy} was left to time out)")}");
                    if (row.History[^1].Agent is { } agent)
                    {
                        output.WriteLine($"  agent {agent} now: {(await api.Get($"/v1/agents/{agent}")).Body}");
                    }
                }

                Assert.Fail($"Not every session reached a final state within {within}: {open.Count} open, {rows.Count} rows of {expectedRows} expected");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The KPI fields of two answers of one query are the same, group by group.</summary>
    private static List<string> SameFigures(string what, JsonNode before, JsonNode after)
    {
        var diffs = new List<string>();
        void Fields(string where, JsonNode? a, JsonNode? b)
        {
            foreach (var field in KpiModel.AllFields)
            {
                var x = a?[field]?.ToJsonString();
                var y = b?[field]?.ToJsonString();
                if (x != y)
                {
                    diffs.Add($"{what} {where} {field}: before {x ?? "null"}, after {y ?? "null"}");
                }
            }
        }

        Fields("total", before["total"], after["total"]);
        var beforeGroups = before["groups"]!.AsArray().ToDictionary(g => HostApi.Str(g!, "key"), g => g, StringComparer.Ordinal);
        var afterGroups = after["groups"]!.AsArray().ToDictionary(g => HostApi.Str(g!, "key"), g => g, StringComparer.Ordinal);
        foreach (var key in beforeGroups.Keys.Union(afterGroups.Keys))
        {
            Fields($"[{key}]", beforeGroups.GetValueOrDefault(key), afterGroups.GetValueOrDefault(key));
        }

        return diffs;
    }

    private void WriteFigures(LiveStats live)
    {
        foreach (var groupBy in new[] { "queue", "channel", "segment", "agent" })
        {
            var json = live.Cluster[groupBy];
            foreach (var g in json["groups"]!.AsArray().Prepend(json["total"]))
            {
                var key = g!["key"]?.GetValue<string>() ?? "total";
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {groupBy,-8} {key,-8} offered {g["offered"]} answered {g["answered"]} within {g["answeredWithinThreshold"]} abandoned {g["abandoned"]} overflowed {g["overflowed"]} refused {g["refused"]} "
                    + $"| answer rate {g["answerRate"]?.ToJsonString() ?? "-"} SL {g["serviceLevel"]?.ToJsonString() ?? "-"} ASA {g["averageSpeedOfAnswerSeconds"]?.ToJsonString() ?? "-"} s "
                    + $"talk {g["averageTalkSeconds"]?.ToJsonString() ?? "-"} s ACW {g["averageAfterCallWorkSeconds"]?.ToJsonString() ?? "-"} s "
                    + $"occupancy {g["occupancy"]?.ToJsonString() ?? "-"} logged-in h {g["loggedInHours"]?.ToJsonString() ?? "-"}"));
            }
        }
    }

    private static double Num(JsonNode node, string field) => node[field]?.GetValue<double>() ?? throw new InvalidOperationException($"No '{field}' in {node.ToJsonString()}");
}
