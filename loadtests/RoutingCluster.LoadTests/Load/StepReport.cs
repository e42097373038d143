using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// One stretch of arrivals of a run (the whole run, the step mode's warm-up, or one of its steps): its plan, and
/// what the gateway side and the desktops recorded during it.
/// </summary>
internal sealed class LoadPhase(string name, double rate, int durationSeconds, IReadOnlyList<PlannedSession> plan, AcceptLog accepts)
{
    private int _created;

    public string Name => name;

    public double Rate => rate;

    public int DurationSeconds => durationSeconds;

    public IReadOnlyList<PlannedSession> Plan => plan;

    public Observations Observations { get; } = new(accepts);

    /// <summary>Creates that failed (error or no answer).</summary>
    public ConcurrentBag<PlannedSession> FailedCreates { get; } = [];

    /// <summary>Creates refused because the queue was full, by session id.</summary>
    public ConcurrentDictionary<string, PlannedSession> Refused { get; } = new(StringComparer.Ordinal);

    /// <summary>Creates the server turned away under overload (503 overloaded, or 429 rate limited) after the client's
    /// retries: nothing was created, and none of them is a failure.</summary>
    public ConcurrentBag<PlannedSession> Shed { get; } = [];

    /// <summary>Creates the server acknowledged.</summary>
    public int Created => Volatile.Read(ref _created);

    public void CountCreated() => Interlocked.Increment(ref _created);
}

/// <summary>One step of the step mode (index 0: the warm-up), as the report shows it.</summary>
internal sealed record StepResult
{
    public required int Index { get; init; }

    /// <summary>1 for a step's first run; 2, 3, ... for its runs again (--step-retries).</summary>
    public int Attempt { get; init; } = 1;

    public required double Rate { get; init; }

    public required double Achieved { get; init; }

    public required int Created { get; init; }

    public required int Completed { get; init; }

    public required LatencySummary Offer { get; init; }

    public required long Errors { get; init; }

    public required int Unfinished { get; init; }

    public required long MissedOffers { get; init; }

    public required InvariantFigures Invariants { get; init; }

    /// <summary>Null for the warm-up (not judged).</summary>
    public StepVerdict? Verdict { get; init; }

    /// <summary>The step's full report (rates, counts, every latency, errors by kind, checks, cost, staleness).</summary>
    public required LoadReport Report { get; init; }

    public bool Passed => Verdict?.Passed ?? false;

    /// <summary>The figures the judge reads, from a step's report.</summary>
    public static StepFigures Figures(LoadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var offer = report.Latencies.FirstOrDefault(l => l.Name == LoadRun.OfferFromScheduled);
        return new StepFigures
        {
            Rate = report.Rates.Configured,
            Created = report.Counts.Created,
            OffersMeasured = offer?.Count ?? 0,
            P99OfferMs = report.P99OfferMs,
            Errors = report.Errors,
            Invariants = report.Invariants,
            Unfinished = report.Counts.Unfinished,
            MissedOffers = report.Counts.MissedOffers,
            Refused = report.Counts.Refused + report.Counts.Shed,
            CreateFailed = report.Counts.CreateFailed,
        };
    }

    public static StepResult From(int index, LoadReport report, StepVerdict? verdict, double p99LimitMs)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new StepResult
        {
            Index = index,
            Rate = report.Rates.Configured,
            Achieved = report.Rates.Achieved,
            Created = report.Counts.Created,
            Completed = report.Counts.Completed,
            Offer = report.Latencies.FirstOrDefault(l => l.Name == LoadRun.OfferFromScheduled) ?? new LatencySummary(LoadRun.OfferFromScheduled, 0, 0, 0, 0, 0, 0, 0),
            Errors = report.Errors,
            Unfinished = report.Counts.Unfinished,
            MissedOffers = report.Counts.MissedOffers,
            Invariants = report.Invariants,
            Verdict = verdict,
            Report = report,
        };
    }

    public string Describe()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{(Index == 0 ? "warm-up" : $"step {Index}")}{(Attempt > 1 ? $" attempt {Attempt}" : string.Empty)}: {Rate}/s, achieved {Achieved}/s, create -> offer p50 {Offer.P50Ms} / p99 {Offer.P99Ms} / max {Offer.MaxMs} ms, errors {Errors}, unfinished {Unfinished}, missed {MissedOffers}, invariants {(Invariants.Hold ? "hold" : "BROKEN")}");
        if (Report.Resources is { } r && r.PerLifecycle("grain calls") is { } calls)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", {calls} grain calls/lifecycle");
        }

        if (Report.Resources?.PerLifecycle("cross-silo messages") is { } crossing)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", {crossing} cross-silo messages/lifecycle");
        }

        if (Report.Resources?.Pg?.RowsWrittenPerLifecycle is { } rows)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", {rows} DB rows/lifecycle");
        }

        return text + (Verdict is null ? " (not judged)" : Verdict.Passed ? " -> pass" : $" -> FAIL ({string.Join("; ", Verdict.Reasons)})");
    }
}

/// <summary>The report of a step-mode run, written as JSON and as markdown.</summary>
internal sealed record StepRunReport : RunReport
{
    public const string ResourceHeader =
        "| step | rate /s | lifecycles | grain calls | messages to grains | cross-silo messages | grain storage writes | DB rows written | DB commits | Npgsql commands | HTTP requests | host CPU ms | driver CPU ms | machine busy | load avg at start |";

    public const string ResourceRule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    public const string StalenessHeader = "| step | rate /s | polls | behind | lag p50 s | lag p99 s | lag max s | mean s | newest included, age p99 s | most answers behind | poll p99 ms |";

    public const string StalenessRule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";


    public required StepSettings Step { get; init; }

    public StepResult? Warmup { get; init; }

    /// <summary>The judged attempt of each step, in order.</summary>
    public required IReadOnlyList<StepResult> Steps { get; init; }

    /// <summary>Attempts that failed on p99 and were run again (--step-retries); not judged further.</summary>
    public IReadOnlyList<StepResult> Retried { get; init; } = [];

    /// <summary>Why no further step ran: p99, errors, invariants, unfinished, missed_offers, refused, no_offers (the
    /// last step failed so), max (no rate left), budget, cancelled.</summary>
    public required string StoppedBy { get; init; }

    /// <summary>Rows written over every step (first read before step 1, last read after the settle wait).</summary>
    public PgWrites? PgWholeRun { get; init; }

    public required double WallSeconds { get; init; }

    public double MaxSustainablePerSecond => StepJudge.MaxSustainable([.. Steps.Select(s => (s.Rate, s.Verdict!))]);

    /// <summary>The last step that passed (the sustainable one), else the first step; null when no step ran.</summary>
    public StepResult? Headline => Steps.LastOrDefault(s => s.Passed && s.Rate == MaxSustainablePerSecond) ?? Steps.FirstOrDefault();

    /// <summary>The warm-up, then every attempt of every step in the order they ran.</summary>
    private IEnumerable<StepResult> All =>
        (Warmup is null ? [] : new[] { Warmup }).Concat(Steps.Concat(Retried).OrderBy(s => s.Index).ThenBy(s => s.Attempt));

    public string ResultLine
    {
        get
        {
            var head = Headline;
            var all = All.ToList();
            return string.Create(
                CultureInfo.InvariantCulture,
                $"RESULT sessions_per_s={(head is { Passed: true } ? head.Achieved : 0):0.##} p99_offer_ms={head?.Report.P99OfferMs ?? -1:0.##} " +
                $"errors={all.Sum(s => s.Errors)} lost={all.Sum(s => s.Invariants.Lost)} double_assigned={all.Sum(s => s.Invariants.DoubleAssigned)} " +
                $"over_capacity={all.Sum(s => s.Invariants.OverCapacity)} ended_twice={all.Sum(s => s.Invariants.EndedTwice)} " +
                $"created={all.Sum(s => s.Created)} completed={all.Sum(s => s.Completed)} unfinished={all.Sum(s => s.Unfinished)} missed_offers={all.Sum(s => s.MissedOffers)} " +
                $"max_sustainable_per_s={MaxSustainablePerSecond:0.##} steps={Steps.Count} stopped_by={StoppedBy}");
        }
    }

    /// <summary>1 when an invariant broke in any step (the warm-up included); 0 otherwise: a failed step is the answer.</summary>
    public int ExitCode => All.Any(s => !s.Invariants.Hold) ? 1 : 0;


    public string ToMarkdown()
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

        Line($"# Step run {RunId}");
        Line();
        Line($"Started {StartedAt:yyyy-MM-dd HH:mm:ss} UTC on {Machine}; {F(WallSeconds)} s in all.");
        Line();
        Line("```");
        Line(CommandLine);
        Line("```");
        Line();
        Line($"**Highest sustainable rate: {F(MaxSustainablePerSecond)} sessions/s** (p99 create -> offer from scheduled at most {F(Step.P99LimitMs)} ms, " +
             $"no error, every invariant held, none unfinished); stopped by: {StoppedBy}.");
        Line();
        Line("## Steps");
        Line();
        Line("| step | rate /s | achieved /s | created | completed | create -> offer p50 ms | p90 ms | p99 ms | max ms | errors | unfinished | missed offers | invariants | verdict |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var s in All)
        {
            var verdict = s.Verdict is null ? "not judged" : s.Verdict.Passed ? "pass" : "FAIL: " + string.Join("; ", s.Verdict.Reasons) + (Retried.Contains(s) ? " (run again)" : string.Empty);
            Line($"| {Name(s)} | {F(s.Rate)} | {F(s.Achieved)} | {s.Created} | {s.Completed} | {F(s.Offer.P50Ms)} | {F(s.Offer.P90Ms)} | {F(s.Offer.P99Ms)} | {F(s.Offer.MaxMs)} | " +
                 $"{s.Errors} | {s.Unfinished} | {s.MissedOffers} | {(s.Invariants.Hold ? "hold" : "BROKEN")} | {verdict} |");
        }

        Line();
        Line("create -> offer counts from the time the Poisson schedule said the session was due (no coordinated omission).");
        if (All.Any(s => s.Report.Resources is not null))
        {
            Line();
            Line("## Cost per session lifecycle");
            Line();
            Line("Counter differences over each step's arrivals and drain (set-up and checks left out), divided by the sessions");
            Line("completed in the step. Grain calls: Orleans' `orleans-app-requests-latency` count (requests that got a response,");
            Line("counted by the caller; one-way calls are not in it); messages to grains: the dispatcher's received messages;");
            Line("cross-silo messages: messages the silos sent each other over the network (the count of Orleans'");
            Line("`orleans-messaging-sent-messages-size`, summed over the silos; `-` with one silo, which sends none);");
            Line("grain storage writes: `orleans-storage-write-latency` count; DB rows written: `n_tup_ins + n_tup_upd` of");
            Line("`pg_stat_user_tables` (`--pg-stats`); host CPU: the hosts' `process_cpu_seconds_total`; machine busy: every");
            Line("process on the machine, from /proc/stat.");
            Line();
            Line(ResourceHeader);
            Line(ResourceRule);
            foreach (var s in All.Where(s => s.Report.Resources is not null))
            {
                Line(ResourceRow(Name(s), s.Rate, s.Report.Resources!));
            }

            Line();
            Line("Totals of each step (not divided):");
            Line();
            Line("| step | seconds | " + string.Join(" | ", HostMetrics.Figures.Select(f => f.Name)) + " | driver CPU s | DB rows inserted | DB rows updated |");
            Line("|---|---:|" + string.Concat(Enumerable.Repeat("---:|", HostMetrics.Figures.Count + 3)));
            foreach (var s in All.Where(s => s.Report.Resources is not null))
            {
                var r = s.Report.Resources!;
                Line($"| {Name(s)} | {F(r.WallSeconds)} | " + string.Join(" | ", HostMetrics.Figures.Select(f => r.Host.TryGetValue(f.Name, out var v) ? F(v) : "-")) +
                     $" | {F(r.DriverCpuSeconds)} | {(r.Pg is null ? "-" : r.Pg.Inserted)} | {(r.Pg is null ? "-" : r.Pg.Updated)} |");
            }

            Line();
        }

        if (PgWholeRun is { } pg)
        {
            Line("### Database writes over all steps (read again after the settle wait)");
            Line();
            PgTables(Line, pg);
        }

        if (All.Any(s => s.Report.Staleness is not null))
        {
            Line("## Staleness of the live figures (--watch-stats)");
            Line();
            Line("Lag of a poll received at t showing A answered: 0 when the driver had seen at most A accepts by t, else t − T(A+1), the");
            Line("time since the driver saw the oldest answer the figure was missing. \"Newest included\" reads the same polls as t − T(A).");
            Line();
            Line(StalenessHeader);
            Line(StalenessRule);
            foreach (var s in All.Where(s => s.Report.Staleness is not null))
            {
                Line(StalenessRow(Name(s), s.Rate, s.Report.Staleness!));
            }

            Line();
        }

        Line("## Settings");
        Line();
        Line("| option | value |");
        Line("|---|---|");
        foreach (var (name, value) in Settings)
        {
            Line($"| {name} | {value} |");
        }

        foreach (var s in All.Where(s => s.Report.ErrorsByKind.Count > 0 || s.Report.Invariants.Examples.Count > 0))
        {
            Line();
            Line($"### {Name(s)}: errors and broken invariants");
            Line();
            foreach (var (kind, count) in s.Report.ErrorsByKind)
            {
                Line($"- {kind}: {count}");
            }

            foreach (var example in s.Report.Invariants.Examples)
            {
                Line($"- {example}");
            }
        }

        Line();
        Line("```");
        Line(ResultLine);
        Line("```");
        return md.ToString();
    }

    public static string ResourceRow(string name, double rate, ResourceFigures r)
    {
        ArgumentNullException.ThrowIfNull(r);
        string F(double? value) => value is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "-";
        return $"| {name} | {F(rate)} | {r.Lifecycles} | {F(r.PerLifecycle("grain calls"))} | {F(r.PerLifecycle("messages to grains"))} | {F(r.PerLifecycle("cross-silo messages"))} | " +
               $"{F(r.PerLifecycle("grain storage writes"))} | {F(r.Pg?.RowsWrittenPerLifecycle)} | {F(r.Pg?.CommitsPerLifecycle)} | {F(r.PerLifecycle("Npgsql commands"))} | " +
               $"{F(r.PerLifecycle("HTTP requests"))} | {F(r.PerLifecycle("host CPU ms"))} | {F(r.Lifecycles > 0 ? r.DriverCpuSeconds * 1000 / r.Lifecycles : null)} | " +
               $"{(r.MachineBusyShare < 0 ? "-" : (r.MachineBusyShare * 100).ToString("0", CultureInfo.InvariantCulture) + "%")} | {(r.LoadAverageAtStart < 0 ? "-" : F(r.LoadAverageAtStart))} |";
    }

    public static void PgTables(Action<string> line, PgWrites? pg)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (pg is null)
        {
            return;
        }

        line(string.Create(CultureInfo.InvariantCulture,
            $"Rows inserted {pg.Inserted}, updated {pg.Updated}, deleted {pg.Deleted}; commits {pg.Commits}; per lifecycle: {pg.RowsWrittenPerLifecycle?.ToString(CultureInfo.InvariantCulture) ?? "-"} rows written, {pg.CommitsPerLifecycle?.ToString(CultureInfo.InvariantCulture) ?? "-"} commits."));
        line(string.Empty);
        line("| table | rows written (ins + upd) |");
        line("|---|---:|");
        foreach (var (table, rows) in pg.RowsWrittenByTable)
        {
            line($"| {table} | {rows} |");
        }

        line(string.Empty);
    }

    public static string StalenessRow(string name, double rate, StalenessFigures s)
    {
        ArgumentNullException.ThrowIfNull(s);
        string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        return $"| {name} | {F(rate)} | {s.Polls} | {s.PollsBehind} | {F(s.P50Seconds)} | {F(s.P99Seconds)} | {F(s.MaxSeconds)} | {F(s.MeanSeconds)} | {F(s.NewestIncludedAgeP99Seconds)} | {s.MaxAnswersBehind} | {F(s.PollRoundTripP99Ms)} |";
    }

    private static string Name(StepResult s) =>
        s.Index == 0 ? "warm-up" : s.Index.ToString(CultureInfo.InvariantCulture) + (s.Attempt > 1 ? string.Create(CultureInfo.InvariantCulture, $" (attempt {s.Attempt})") : string.Empty);
}
