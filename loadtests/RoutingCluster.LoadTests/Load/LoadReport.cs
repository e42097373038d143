using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace RoutingCluster.LoadTests.Load;

/// <summary>Sessions per second: as configured, as drawn by the Poisson schedule, and as the server acknowledged.</summary>
internal sealed record RateFigures(double Configured, double Planned, double Achieved, double ArrivalSeconds);

/// <summary>How many sessions did what.</summary>
internal sealed record CountFigures
{
    public int Planned { get; init; }

    /// <summary>Answered 201 (or 200) by <c>POST /v1/sessions</c>.</summary>
    public int Created { get; init; }

    /// <summary>Refused (queue full, 409): the session exists in state refused.</summary>
    public int Refused { get; init; }

    /// <summary>Turned away under overload: 503 (type overloaded) or 429, after the client's retries. Not failures: the
    /// server took nothing (one found on the server all the same, from an earlier attempt, is checked like the others).</summary>
    public int Shed { get; init; }

    /// <summary>The create failed (error or no answer); those found on the server afterwards are checked too.</summary>
    public int CreateFailed { get; init; }

    public int FoundAfterFailedCreate { get; init; }

    /// <summary>Sessions whose offer reached a desktop.</summary>
    public int Offered { get; init; }

    public int Completed { get; init; }

    /// <summary>Completed sessions scheduled after the warm-up whose offer reached a desktop within the in-time bound
    /// of their scheduled arrival (<c>--in-time-ms</c>): the work done in time, whatever was admitted.</summary>
    public int CompletedInTime { get; init; }

    /// <summary>Completed sessions the host had forgotten by the check, as its finished-session retention says
    /// (<c>--finished-retention-s</c>); counted in <see cref="Completed"/>.</summary>
    public int Forgotten { get; init; }

    /// <summary>Not in a terminal state when the drain ended (queued, offered, connected or in wrap-up).</summary>
    public int Unfinished { get; init; }

    public long MissedOffers { get; init; }

    /// <summary>Offers received for sessions this run did not create.</summary>
    public int ForeignOffers { get; init; }

    public long AgentViewsChecked { get; init; }

    /// <summary>Sessions still queued or offered at the end, abandoned to leave the host clean.</summary>
    public int AbandonedAtEnd { get; init; }
}

/// <summary>The run's checks: each a count of sessions (agents for capacity) that broke it.</summary>
internal sealed record InvariantFigures
{
    /// <summary>Created (acknowledged) but not found, or said to be held by an agent that does not hold it.</summary>
    public int Lost { get; init; }

    /// <summary>Offered to, or held by, a second agent while another had it.</summary>
    public int DoubleAssigned { get; init; }

    /// <summary>Agents whose view showed more sessions and offers than their capacity.</summary>
    public int OverCapacity { get; init; }

    /// <summary>Terminal sessions whose history does not end exactly once.</summary>
    public int EndedTwice { get; init; }

    public IReadOnlyList<string> Examples { get; init; } = [];

    public bool Hold => Lost == 0 && DoubleAssigned == 0 && OverCapacity == 0 && EndedTwice == 0;
}

/// <summary>The report of one load run, written as JSON and as markdown.</summary>
internal sealed record LoadReport : RunReport
{

    public required RateFigures Rates { get; init; }

    public required CountFigures Counts { get; init; }

    public required IReadOnlyList<LatencySummary> Latencies { get; init; }

    /// <summary>Create → offer from the scheduled time, per window of scheduled time (warm-up included).</summary>
    public IReadOnlyList<LatencySummary> OfferByWindow { get; init; } = [];

    public required long Errors { get; init; }

    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    public required InvariantFigures Invariants { get; init; }

    /// <summary>p99 of create → offer received, from the scheduled time (-1 when no offer was measured).</summary>
    public required double P99OfferMs { get; init; }

    /// <summary>What the run cost the hosts, the database and the CPU, per completed lifecycle (arrivals and drain).</summary>
    public ResourceFigures? Resources { get; init; }

    /// <summary>How far the live <c>answered</c> lagged behind the accepts (<c>--watch-stats</c>).</summary>
    public StalenessFigures? Staleness { get; init; }

    public string ResultLine => string.Create(
        CultureInfo.InvariantCulture,
        $"RESULT sessions_per_s={Rates.Achieved:0.##} p99_offer_ms={P99OfferMs:0.##} errors={Errors} lost={Invariants.Lost} " +
        $"double_assigned={Invariants.DoubleAssigned} over_capacity={Invariants.OverCapacity} ended_twice={Invariants.EndedTwice} " +
        $"created={Counts.Created} completed={Counts.Completed} unfinished={Counts.Unfinished} missed_offers={Counts.MissedOffers} " +
        $"refused_overload={Counts.Shed} completed_in_time={Counts.CompletedInTime} forgotten={Counts.Forgotten}");

    /// <summary>0: every check holds and no errors; 1: an invariant is broken; 3: no invariant broken, but errors.</summary>
    public int ExitCode => !Invariants.Hold ? 1 : Errors > 0 ? 3 : 0;


    public string ToMarkdown()
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

        Line($"# Load run {RunId}");
        Line();
        Line($"Started {StartedAt:yyyy-MM-dd HH:mm:ss} UTC on {Machine}.");
        Line();
        Line("```");
        Line(CommandLine);
        Line("```");
        Line();
        Line("## Settings");
        Line();
        Line("| option | value |");
        Line("|---|---|");
        foreach (var (name, value) in Settings)
        {
            Line($"| {name} | {value} |");
        }

        Line();
        Line("## Rates (sessions per second)");
        Line();
        Line("| configured | planned (Poisson draw) | achieved (created) | arrival phase s |");
        Line("|---:|---:|---:|---:|");
        Line($"| {F(Rates.Configured)} | {F(Rates.Planned)} | {F(Rates.Achieved)} | {F(Rates.ArrivalSeconds)} |");
        Line();
        Line("## Counts");
        Line();
        Line("| planned | created | refused | refused 503/429 (overload) | create failed | found after failed create | offered | completed | completed in time | forgotten after retention | unfinished | missed offers | foreign offers | agent views checked | abandoned at end |");
        Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Line($"| {Counts.Planned} | {Counts.Created} | {Counts.Refused} | {Counts.Shed} | {Counts.CreateFailed} | {Counts.FoundAfterFailedCreate} | {Counts.Offered} | " +
             $"{Counts.Completed} | {Counts.CompletedInTime} | {Counts.Forgotten} | {Counts.Unfinished} | {Counts.MissedOffers} | {Counts.ForeignOffers} | {Counts.AgentViewsChecked} | {Counts.AbandonedAtEnd} |");
        Line();
        Line("## Latency (ms, HdrHistogram)");
        Line();
        Line("| measure | count | p50 | p90 | p99 | p99.9 | max | mean |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var l in Latencies)
        {
            Line($"| {l.Name} | {l.Count} | {F(l.P50Ms)} | {F(l.P90Ms)} | {F(l.P99Ms)} | {F(l.P999Ms)} | {F(l.MaxMs)} | {F(l.MeanMs)} |");
        }

        Line();
        Line("\"create -> offer (from scheduled)\" counts from the time the session was due by the Poisson schedule, so a");
        Line("driver or server that falls behind shows in it (no coordinated omission); \"(from send)\" counts from the");
        Line("moment the request was sent.");
        if (OfferByWindow.Count > 0)
        {
            Line();
            Line("### create -> offer (from scheduled) over the run");
            Line();
            Line("| scheduled at | count | p50 | p90 | p99 | max |");
            Line("|---|---:|---:|---:|---:|---:|");
            foreach (var w in OfferByWindow)
            {
                Line($"| {w.Name} | {w.Count} | {F(w.P50Ms)} | {F(w.P90Ms)} | {F(w.P99Ms)} | {F(w.MaxMs)} |");
            }
        }

        Line();
        Line($"## Errors: {Errors}");
        Line();
        if (ErrorsByKind.Count > 0)
        {
            Line("| kind | count |");
            Line("|---|---:|");
            foreach (var (kind, count) in ErrorsByKind)
            {
                Line($"| {kind} | {count} |");
            }

            Line();
        }

        if (Resources is { } r)
        {
            Line("## Cost per session lifecycle (arrivals and drain)");
            Line();
            Line(StepRunReport.ResourceHeader);
            Line(StepRunReport.ResourceRule);
            Line(StepRunReport.ResourceRow("run", Rates.Configured, r));
            Line();
            StepRunReport.PgTables(Line, r.Pg);
        }

        if (Staleness is { } st)
        {
            Line("## Staleness of the live figures (--watch-stats)");
            Line();
            Line(StepRunReport.StalenessHeader);
            Line(StepRunReport.StalenessRule);
            Line(StepRunReport.StalenessRow("run", Rates.Configured, st));
            Line();
        }

        Line($"## Invariants: {(Invariants.Hold ? "all hold" : "BROKEN")}");
        Line();
        Line("| check | broken |");
        Line("|---|---:|");
        Line($"| no session lost | {Invariants.Lost} |");
        Line($"| never offered to two agents at once | {Invariants.DoubleAssigned} |");
        Line($"| no agent over capacity (agents) | {Invariants.OverCapacity} |");
        Line($"| every session ends exactly once | {Invariants.EndedTwice} |");
        if (Invariants.Examples.Count > 0)
        {
            Line();
            foreach (var example in Invariants.Examples)
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
}
