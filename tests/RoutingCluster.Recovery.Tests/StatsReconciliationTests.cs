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
/// agents who accept, reject, miss, talk, transfer and wrap up, customers who abandon or ask to be called back (at
/// once, or a moment later), full queues that refuse and overflow. Afterwards every session KPI (callbacks and
/// callbacks answered included) recomputed from the stored session records (<c>routing_session</c>, with the
/// callbacks the gateway was granted, which they do not record) equals the live figures on each of the three silos,
/// and the sum of the persisted intervals (<c>routing_interval</c>) to the tick; the persisted intervals equal the
/// live figures including agent time; and the day's figures survive a full restart of the cluster. Beside the
/// product's own records, the test keeps its own (<see cref="DriverLedger"/>): what it created, saw refused,
/// accepted, abandoned, asked to call back, transferred and ended, and when; the live figures equal its
/// counts, and its own formulas over its own observations (figures, 15-minute intervals); no request of the run
/// failed; and the session table holds exactly one row per session the run created or saw refused.
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
                    AbandonHost: plan.Next(Silos))
                {
                    // About one customer in five asks to be called back while waiting: half at once, half 1-2 s later.
                    CallbackAfter = plan.NextDouble() < 0.2 ? TimeSpan.FromSeconds(0.05 + (plan.NextDouble() * 0.5)) : null,
                    CallbackIn = plan.NextDouble() < 0.5 ? TimeSpan.FromSeconds(1 + plan.NextDouble()) : null,
                    CallbackHost = plan.Next(Silos),
                };
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
            var ledger = traffic.Ledger;
            output.WriteLine($"driver's own records: {ledger.Created} created ({ledger.RefusedIntoOverflow} of them refused into the overflow queue), {ledger.RefusedOutright} refused outright, " +
                $"{ledger.Answered} accepted, {ledger.Abandoned} abandoned, {ledger.Transferred} transferred, {ledger.Ended} ended, " +
                $"{ledger.Callbacks(null)} callbacks granted ({ledger.CallbacksAnswered(null)} answered), {ledger.Failures.Count} failed requests");

            // No request of the run failed: every answer was a success or a refusal the driver expects.
            Assert.True(ledger.Failures.Count == 0, $"{ledger.Failures.Count} request(s) of the run failed:\n  " + string.Join("\n  ", ledger.Failures.Take(30)));
            Assert.Equal(traffic.Created, ledger.Created);
            Assert.Equal(traffic.Refused, ledger.RefusedOutright);

            // ---- (a) recomputed from the session records = live, on each silo ----
            // The stored records with the callbacks the gateway was granted (which the history does not record).
            var rows = (await StoredSessions.ReadAllAsync(connectionString)).Select(r => r with { Callbacks = ledger.CallbacksOf(r.Id) }).ToList();
            Assert.All(rows, r => Assert.True(r.IsTerminal, $"{r.Id} is {r.State}"));

            // Exactly one row per session the driver created or saw refused; every session it created among them.
            Assert.Equal(ledger.Created + ledger.RefusedOutright, rows.Count);
            Assert.Empty(ledger.SessionIds.Except(rows.Select(r => r.Id), StringComparer.Ordinal));
            Assert.Equal(ledger.RefusedOutright, rows.Count(r => r.State == "refused"));
            var recomputed = KpiRecompute.From(rows, ServiceLevelSeconds);
            output.WriteLine($"recomputed from routing_session: {recomputed}");
            foreach (var note in traffic.Notes.Take(5))
            {
                output.WriteLine($"note: {note}");
            }

            Assert.True(recomputed.Answers > 0 && recomputed.Transfers > 0 && recomputed.Abandons > 0
                && recomputed.OverflowsToAnotherQueue + recomputed.OverflowsTerminal > 0 && recomputed.RefusedOutright + recomputed.RefusedIntoOverflow > 0
                && recomputed.CallbacksAnswered > 0 && rows.SelectMany(r => r.Callbacks).Any(c => c.At is null) && rows.SelectMany(r => r.Callbacks).Any(c => c.At is not null),
                $"the run should exercise every path: {recomputed}");

            // The session records hold what the driver did, step for step.
            Assert.Equal(
                (ledger.Answered, ledger.Transferred, ledger.Abandoned, ledger.RefusedOutright, ledger.RefusedIntoOverflow, ledger.Callbacks(null), ledger.CallbacksAnswered(null)),
                (recomputed.Answers, recomputed.Transfers, recomputed.Abandons, recomputed.RefusedOutright, recomputed.RefusedIntoOverflow, recomputed.Callbacks, recomputed.CallbacksAnswered));

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

            // The live figures on every silo = the driver's own counts and its own formulas over its own observations.
            var (_, ownChecks) = await ConvergeAsync("live figures on every silo = the driver's own counts and figures", async () =>
            {
                var lives = await Task.WhenAll(apis.Select(a => LiveStats.ReadAsync(a, queueIds, from, to)));
                return [.. lives.SelectMany((live, i) => OwnDifferences(live, ledger, recomputed.OverflowsToAnotherQueue).Select(d => $"silo {i}: {d}"))];
            });
            output.WriteLine($"the live figures equal the driver's own counts and figures at check {ownChecks}");

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

                // Every talk the driver ended (by an end or a transfer) is counted once, and its after-call work once.
                var queueTotal = KpiCounters.Sum(persisted.QueueCells.Where(c => c.Key.Breakdown == Breakdown.Total).Select(c => c.Value));
                if (queueTotal.TalkCount != ledger.Ended + ledger.Transferred || queueTotal.AfterCallWorkCount != ledger.Ended + ledger.Transferred)
                {
                    diffs.Add($"routing_interval talks {queueTotal.TalkCount}, after-call works {queueTotal.AfterCallWorkCount}; the driver ended {ledger.Ended} and transferred {ledger.Transferred}");
                }

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
                + $"{recomputed.OffersReturned} offers rejected or missed, {recomputed.Callbacks} callbacks ({recomputed.CallbacksAnswered} answered); staleness {staleness.TotalMilliseconds:F0} ms; test {total.Elapsed.TotalSeconds:F1} s"));
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

    private sealed record SessionSpec(int Index, int Host, string Queue, string Channel, int Age, TimeSpan? AbandonAfter, int AbandonHost)
    {
        /// <summary>When the customer asks to be called back, after the create (null: never).</summary>
        public TimeSpan? CallbackAfter { get; init; }

        /// <summary>How far ahead of the request the callback is scheduled (null: at once, at the session's place).</summary>
        public TimeSpan? CallbackIn { get; init; }

        public int CallbackHost { get; init; }
    }

    /// <summary>What the driver pushed through (counted from the HTTP answers).</summary>
    private sealed class Traffic
    {
        private int _created, _refused, _createRetries, _abandoned, _abandonTooLate, _callbacks, _callbacksTooLate, _accepted, _rejected, _ignored, _transfers, _ends, _wrapUpsCut, _readyAgain, _breaks, _late, _agentErrors;

        public ConcurrentDictionary<string, bool> Transferred { get; } = new(StringComparer.Ordinal);

        /// <summary>The driver's own records, per session, with the moments of each request.</summary>
        public DriverLedger Ledger { get; } = new();

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
                case "callback": Interlocked.Increment(ref _callbacks); break;
                case "callback-too-late": Interlocked.Increment(ref _callbacksTooLate); break;
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
            + $"{_callbacks} callbacks ({_callbacksTooLate} too late), "
            + $"{_accepted} offers accepted, {_rejected} rejected, {_ignored} left to time out, {_transfers} transfers, {_ends} ended, "
            + $"{_wrapUpsCut} wrap-ups cut short, {_breaks} breaks, {_readyAgain} back to ready, {_late} answers too late (409), {_agentErrors} request errors, {Unexpected.Count} unexpected answers");
    }

    private static async Task CreateAsync(SessionSpec spec, HostApi[] apis, Traffic traffic)
    {
        var body = $$"""{ "queueId": "{{spec.Queue}}", "channel": "{{spec.Channel}}", "customer": { "id": "c-recon-{{spec.Index}}", "age": {{spec.Age}} }, "skills": { "cards": 2 } }""";
        var key = string.Create(CultureInfo.InvariantCulture, $"recon-{Seed}-{spec.Index}");
        string? id = null;
        var ledger = traffic.Ledger;
        for (var attempt = 0; id is null; attempt++)
        {
            Reply reply;
            var sent = DriverLedger.Now;
            try
            {
                reply = await apis[(spec.Host + attempt) % apis.Length].Post("/v1/sessions", body, key);
            }
            catch (Exception ex) when (attempt < 5 && ex is HttpRequestException or TaskCanceledException)
            {
                // Retried so that the run goes on, but a failed request all the same.
                ledger.Fail($"create {spec.Index}: {ex.GetType().Name}: {ex.Message}");
                traffic.Count("create-retry");
                await Task.Delay(200);
                continue;
            }

            var at = new DriverLedger.Window(sent, DriverLedger.Now);
            if (reply.IsSuccess)
            {
                var view = reply.Success();
                if (HostApi.Str(view, "state") == "refused")
                {
                    traffic.Count("refused"); // a retry of a create that was refused
                    ledger.NoteRefused(spec.Queue, at);
                    return;
                }

                id = HostApi.Str(view, "id");
                traffic.Count("created");
                ledger.NoteCreated(spec.Queue, view, at);
            }
            else if (reply.Status == HttpStatusCode.Conflict && reply.Json?["type"]?.GetValue<string>() == "urn:routing-cluster:problem:queue-full")
            {
                traffic.Count("refused");
                ledger.NoteRefused(spec.Queue, at);
                return;
            }
            else if ((int)reply.Status >= 500 && attempt < 5)
            {
                ledger.Fail($"create {spec.Index}: {(int)reply.Status} {reply.Body}");
                traffic.Count("create-retry");
                await Task.Delay(200);
            }
            else
            {
                ledger.Fail($"create {spec.Index}: {(int)reply.Status} {reply.Body}");
                traffic.Unexpected.Enqueue($"create {spec.Index}: {(int)reply.Status} {reply.Body}");
                return;
            }
        }

        // What the customer does next, in the order of the plan: ask to be called back, hang up.
        var createdAt = Stopwatch.StartNew();
        if (spec.CallbackAfter is { } callbackAfter && (spec.AbandonAfter is not { } hangsUp || callbackAfter < hangsUp))
        {
            await Task.Delay(callbackAfter);
            await RequestCallbackAsync(id, spec, apis, traffic);
        }

        if (spec.AbandonAfter is { } after)
        {
            var rest = after - createdAt.Elapsed;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }

            var sent = DriverLedger.Now;
            try
            {
                var reply = await apis[spec.AbandonHost].Post($"/v1/sessions/{id}/abandon");
                traffic.Count(reply.IsSuccess ? "abandoned" : reply.Status == HttpStatusCode.Conflict ? "abandon-too-late" : "error");
                if (reply.IsSuccess)
                {
                    ledger.NoteAbandoned(id, HostApi.Str(reply.Success(), "queueId"), new DriverLedger.Window(sent, DriverLedger.Now));
                }
                else if (reply.Status != HttpStatusCode.Conflict)
                {
                    ledger.Fail($"abandon {id}: {(int)reply.Status} {reply.Body}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                ledger.Fail($"abandon {id}: {ex.GetType().Name}: {ex.Message}");
                traffic.Count("error");
            }
        }
    }

    /// <summary>The customer asks to be called back: at once, or <see cref="SessionSpec.CallbackIn"/> later. A 409 (the
    /// session was offered or answered meanwhile) is an answer; the granted callback is noted as the answer shows it.</summary>
    private static async Task RequestCallbackAsync(string sessionId, SessionSpec spec, HostApi[] apis, Traffic traffic)
    {
        var ledger = traffic.Ledger;
        var sent = DriverLedger.Now;
        var at = spec.CallbackIn is { } ahead ? $"\"{(sent + ahead).UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\"" : "null";
        try
        {
            var reply = await apis[spec.CallbackHost].Post($"/v1/sessions/{sessionId}/callback", $$"""{ "at": {{at}} }""");
            if (reply.IsSuccess)
            {
                var view = reply.Success();
                var callback = view["callback"]!;
                var observed = new ObservedCallback(
                    DateTimeOffset.Parse(HostApi.Str(callback, "requestedAt"), CultureInfo.InvariantCulture),
                    callback["at"] is { } scheduled ? DateTimeOffset.Parse(scheduled.GetValue<string>(), CultureInfo.InvariantCulture) : null);
                traffic.Count("callback");
                ledger.NoteCallback(sessionId, HostApi.Str(view, "queueId"), new DriverLedger.Window(sent, DriverLedger.Now), observed);
            }
            else if (reply.Status == HttpStatusCode.Conflict)
            {
                traffic.Count("callback-too-late");
            }
            else
            {
                traffic.Count("error");
                ledger.Fail($"callback {sessionId}: {(int)reply.Status} {reply.Body}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            traffic.Count("error");
            ledger.Fail($"callback {sessionId}: {ex.GetType().Name}: {ex.Message}");
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
        var ledger = traffic.Ledger;

        // A refusal the driver expects (409: the offer or the session moved on, the queue is full) is an answer; anything
        // else that is not a success is a failed request.
        bool Expected(Reply reply, string what)
        {
            if (reply.IsSuccess || reply.Status == HttpStatusCode.Conflict)
            {
                return true;
            }

            ledger.Fail($"{what} by {agentId}: {(int)reply.Status} {reply.Body}");
            return false;
        }

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
                if (!reply.IsSuccess)
                {
                    ledger.Fail($"GET agent {agentId}: {(int)reply.Status} {reply.Body}");
                }

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
                        Expected(ready, "ready");
                    }
                    else if (state == "ready" && offers.Count == 0 && sessions.Count == 0 && rng.NextDouble() < 0.01)
                    {
                        breakUntil = now + TimeSpan.FromSeconds(0.3 + (rng.NextDouble() * 0.5));
                        var pause = await api.Post($"/v1/agents/{agentId}/state", """{ "state": "not-ready", "reason": "break" }""");
                        traffic.Count(pause.IsSuccess ? "break" : "error");
                        Expected(pause, "break");
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
                            Expected(rejected, $"reject {sessionId}");
                        }
                        else
                        {
                            var sent = DriverLedger.Now;
                            var accepted = await api.Post($"/v1/agents/{agentId}/offers/{sessionId}/accept");
                            Expected(accepted, $"accept {sessionId}");
                            if (accepted.IsSuccess)
                            {
                                traffic.Count("accepted");
                                ledger.NoteAccepted(sessionId, HostApi.Str(offer!, "queueId"), new DriverLedger.Window(sent, DriverLedger.Now));
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
                                var sent = DriverLedger.Now;
                                var moved = await api.Post($"/v1/sessions/{sessionId}/transfer", $$"""{ "queueId": "{{target}}" }""");
                                Expected(moved, $"transfer {sessionId}");
                                if (!moved.IsSuccess)
                                {
                                    traffic.Notes.Enqueue($"transfer {sessionId} by {agentId}: {(int)moved.Status} {moved.Body}");
                                }
                                else
                                {
                                    traffic.Count("transferred");
                                    ledger.NoteTransferred(sessionId, target, new DriverLedger.Window(sent, DriverLedger.Now));
                                    plans.Remove(sessionId);
                                    continue;
                                }
                            }

                            var ended = await api.Post($"/v1/agents/{agentId}/sessions/{sessionId}/end");
                            Expected(ended, $"end {sessionId}");
                            if (ended.IsSuccess)
                            {
                                traffic.Count("ended");
                                ledger.NoteEnded(sessionId);
                                plans.Remove(sessionId);
                            }
                        }
                        else if (heldState == "wrap-up" && wrapUpsSeen.Add(sessionId) && rng.NextDouble() < 0.15)
                        {
                            var cut = await api.Post($"/v1/agents/{agentId}/sessions/{sessionId}/wrap-up-done");
                            traffic.Count(cut.IsSuccess ? "wrap-up-cut" : "late");
                            Expected(cut, $"wrap-up-done {sessionId}");
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                traffic.Count("error");
                ledger.Fail($"agent {agentId}: {ex.GetType().Name}: {ex.Message}");
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

    /// <summary>
    /// One silo's live figures against the driver's own records: its counts exactly, the figures by the test's own
    /// formulas over them (a rate is a count over the offered; a speed of answer lies within the bounds the driver's
    /// clock gives it), and each 15-minute interval holding what the driver's windows put there.
    /// </summary>
    /// <param name="overflowsOnward">How many sessions left r-main for r-over after waiting r-main's maximum: a timer of
    /// the product, which the driver does not see (read from the session records; at most r-main's overflowed, which
    /// also counts those that found r-over full and ended there).</param>
    private static List<string> OwnDifferences(LiveStats live, DriverLedger ledger, int overflowsOnward)
    {
        var diffs = new List<string>();
        var byQueue = live.Cluster["queue"]["groups"]!.AsArray().ToDictionary(g => HostApi.Str(g!, "key"), g => g!, StringComparer.Ordinal);
        static long Count(JsonNode? node, string field) => node?[field]?.GetValue<long>() ?? 0;
        static double? Figure(JsonNode? node, string field) => node?[field]?.GetValue<double>();

        // r-over's offered counts the sessions that overflowed there beside what the driver placed there.
        if (overflowsOnward > Count(byQueue.GetValueOrDefault(Main), "overflowed"))
        {
            diffs.Add($"{overflowsOnward} sessions overflowed from {Main} to {Over}, more than {Main}'s overflowed {Count(byQueue.GetValueOrDefault(Main), "overflowed")}");
        }

        foreach (var queue in new[] { (string?)null, Main, Over })
        {
            var offered = ledger.Placements(queue) + (queue == Main ? 0 : overflowsOnward);
            var answered = ledger.Events("answered", queue).Count;
            var abandoned = ledger.Events("abandoned", queue).Count;
            var thresholds = queue is null ? [Main, Over] : new[] { queue };
            var speeds = thresholds.SelectMany(q => ledger.SpeedsOfAnswer(q).Select(s => (s.Min, s.Max, Threshold: ServiceLevelSeconds[q]))).ToList();
            var surelyWithin = speeds.Count(s => s.Max <= s.Threshold);
            var maybeWithin = speeds.Count(s => s.Min <= s.Threshold);
            var answers = queue is null
                ? new[] { ("stats total", live.Cluster["queue"]["total"]) }
                : [($"stats [{queue}]", byQueue.GetValueOrDefault(queue)), ($"queues/{queue}/stats", live.Queues[queue])];
            foreach (var (where, figures) in answers)
            {
                if (figures is null)
                {
                    diffs.Add($"{where}: missing");
                    continue;
                }

                void Exactly(string field, long own)
                {
                    if (Count(figures, field) != own)
                    {
                        diffs.Add($"{where} {field}: {Count(figures, field)}, the driver's own count {own}");
                    }
                }

                void Within(string field, double? low, double? high)
                {
                    var got = Figure(figures, field);
                    var ok = (low, high, got) switch
                    {
                        (null, null, null) => true,
                        ({ } l, { } h, { } g) => g >= l - 1e-9 && g <= h + 1e-9,
                        _ => false,
                    };
                    if (!ok)
                    {
                        diffs.Add(string.Create(CultureInfo.InvariantCulture, $"{where} {field}: {got?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}, the driver's own figure [{low:R}, {high:R}]"));
                    }
                }

                Exactly("offered", offered);
                Exactly("answered", answered);
                Exactly("abandoned", abandoned);
                Exactly("callbacks", ledger.Callbacks(queue));
                Exactly("callbacksAnswered", ledger.CallbacksAnswered(queue));
                if (queue is null)
                {
                    Exactly("refused", ledger.RefusedOutright + ledger.RefusedIntoOverflow);
                }

                var within = Count(figures, "answeredWithinThreshold");
                if (within < surelyWithin || within > maybeWithin)
                {
                    diffs.Add($"{where} answeredWithinThreshold: {within}, the driver's clock puts it in [{surelyWithin}, {maybeWithin}]");
                }

                double? Rate(long part) => offered > 0 ? (double)part / offered : null;
                Within("answerRate", Rate(answered), Rate(answered));
                Within("serviceLevel", Rate(surelyWithin), Rate(maybeWithin));
                Within("averageSpeedOfAnswerSeconds",
                    answered > 0 ? speeds.Sum(s => s.Min) / answered : null,
                    answered > 0 ? speeds.Sum(s => s.Max) / answered : null);
            }
        }

        // The 15-minute intervals: each holds at least what the driver saw wholly inside it, at most what touched it.
        var intervals = live.Cluster["interval"]["groups"]!.AsArray().ToDictionary(g => HostApi.Str(g!, "key"), g => g!, StringComparer.Ordinal);
        foreach (var kind in new[] { "offered", "answered", "abandoned", "refused" })
        {
            // The overflows onward are offered in r-over at a moment the driver does not see: in any interval of the run.
            var unseen = kind == "offered" ? overflowsOnward : 0;
            var events = ledger.Events(kind, null);
            var buckets = events.SelectMany(e => new[] { DriverLedger.Bucket(e.Sent), DriverLedger.Bucket(e.Answered) })
                .Select(DriverLedger.BucketKey)
                .Concat(intervals.Where(i => Count(i.Value, kind) > 0).Select(i => i.Key))
                .Distinct(StringComparer.Ordinal);
            foreach (var key in buckets)
            {
                var surely = events.Count(e => DriverLedger.BucketKey(DriverLedger.Bucket(e.Sent)) == key && DriverLedger.BucketKey(DriverLedger.Bucket(e.Answered)) == key);
                var maybe = events.Count(e => string.CompareOrdinal(DriverLedger.BucketKey(DriverLedger.Bucket(e.Sent)), key) <= 0 && string.CompareOrdinal(key, DriverLedger.BucketKey(DriverLedger.Bucket(e.Answered))) <= 0);
                var got = Count(intervals.GetValueOrDefault(key), kind);
                if (got < surely || got > maybe + unseen)
                {
                    diffs.Add($"stats?groupBy=interval [{key}] {kind}: {got}, the driver's windows put [{surely}, {maybe + unseen}] there");
                }
            }
        }

        return diffs;
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
