using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

public sealed class LoadReportTests
{
    [Fact]
    public void ResultLine_StartsWithTheAgreedFigures_InTheirOrder()
    {
        var report = Report(new InvariantFigures(), errors: 0);

        Assert.Equal(
            "RESULT sessions_per_s=99.87 p99_offer_ms=12.35 errors=0 lost=0 double_assigned=0 over_capacity=0 ended_twice=0 " +
            "created=2996 completed=2990 unfinished=6 missed_offers=1 refused_overload=0 completed_in_time=2981 forgotten=0",
            report.ResultLine);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public void ExitCode_IsOneWhenAnInvariantBreaks_AndThreeWhenOnlyErrorsWereCounted()
    {
        Assert.Equal(1, Report(new InvariantFigures { DoubleAssigned = 1 }, errors: 0).ExitCode);
        Assert.Equal(1, Report(new InvariantFigures { Lost = 1 }, errors: 5).ExitCode);
        Assert.Equal(1, Report(new InvariantFigures { OverCapacity = 1 }, errors: 0).ExitCode);
        Assert.Equal(1, Report(new InvariantFigures { EndedTwice = 1 }, errors: 0).ExitCode);
        Assert.Equal(3, Report(new InvariantFigures(), errors: 2).ExitCode);
    }

    [Fact]
    public void Markdown_AndJson_CarryTheRatesLatenciesErrorsAndInvariants()
    {
        var report = Report(new InvariantFigures { Lost = 1, Examples = ["lost: s-1 was created but GET answers 404"] }, errors: 2);

        var markdown = report.ToMarkdown();
        var json = report.ToJson();

        Assert.Contains("| 100 | 99.9 | 99.87 | 30 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| create -> offer (from scheduled) | 2990 | 3.1 | 6 | 12.345 | 20 | 40 | 4 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 0-3 s | 290 | 2 | 3 | 9.5 | 11 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| POST /v1/sessions 503 | 2 |", markdown, StringComparison.Ordinal);
        Assert.Contains("## Invariants: BROKEN", markdown, StringComparison.Ordinal);
        Assert.Contains("- lost: s-1 was created but GET answers 404", markdown, StringComparison.Ordinal);
        Assert.EndsWith("```\n" + report.ResultLine + "\n```\n", markdown, StringComparison.Ordinal);
        Assert.Contains("\"achieved\": 99.87", json, StringComparison.Ordinal);
        Assert.Contains("\"POST /v1/sessions 503\": 2", json, StringComparison.Ordinal);
        Assert.Contains("\"hold\": false", json, StringComparison.Ordinal);
    }

    private static LoadReport Report(InvariantFigures invariants, long errors) => new()
    {
        RunId = "r1",
        StartedAt = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero),
        CommandLine = "dotnet run -- --rate 100",
        Machine = "2 cores",
        Settings = new Dictionary<string, string> { ["rate"] = "100" },
        Rates = new RateFigures(100, 99.9, 99.87, 30),
        Counts = new CountFigures { Planned = 2997, Created = 2996, Completed = 2990, CompletedInTime = 2981, Unfinished = 6, MissedOffers = 1 },
        Latencies = [new LatencySummary(LoadRun.OfferFromScheduled, 2990, 3.1, 6, 12.345, 20, 40, 4)],
        OfferByWindow = [new LatencySummary("0-3 s", 290, 2, 3, 9.5, 0, 11, 2.5)],
        Errors = errors,
        ErrorsByKind = errors == 0 ? new Dictionary<string, long>() : new Dictionary<string, long> { ["POST /v1/sessions 503"] = errors },
        Invariants = invariants,
        P99OfferMs = 12.346,
    };
}
