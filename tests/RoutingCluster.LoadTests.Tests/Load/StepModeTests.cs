using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

/// <summary>The step mode's logic without a host: the rates, the pass/fail decision, the stop conditions, the
/// highest sustainable rate and the RESULT line.</summary>
public sealed class StepModeTests
{
    private const double Limit = 50;

    [Fact]
    public void Rates_AddTheIncrement_UpToTheMaximumInclusive()
    {
        Assert.Equal([50, 100, 150, 200], StepPlan.Rates(50, by: 50, factor: null, max: 200));
        Assert.Equal([50, 100, 150], StepPlan.Rates(50, by: 50, factor: null, max: 199.99));
        Assert.Equal([7], StepPlan.Rates(7, by: 50, factor: null, max: 7));
    }

    [Fact]
    public void Rates_MultiplyByTheFactor_RoundedToHundredths_AndAreBoundedInCount()
    {
        Assert.Equal([50, 75, 112.5, 168.75, 253.13, 379.69], StepPlan.Rates(50, by: null, factor: 1.5, max: 400));
        Assert.Equal(StepSettings.MaxSteps, StepPlan.Rates(1, by: 1, factor: null, max: 1_000_000).Count);
    }

    [Fact]
    public void Rates_NeedExactlyOneOfIncrementAndFactor()
    {
        Assert.Throws<ArgumentException>(() => StepPlan.Rates(50, by: 50, factor: 1.5, max: 100));
        Assert.Throws<ArgumentException>(() => StepPlan.Rates(50, by: null, factor: null, max: 100));
        Assert.Throws<ArgumentException>(() => StepPlan.Rates(50, by: null, factor: 1, max: 100));
    }

    [Fact]
    public void Judge_PassesAStepWithNothingWrong_AtOrUnderTheP99Limit()
    {
        Assert.True(StepJudge.Judge(Figures(p99: 12.3), Limit).Passed);
        var atLimit = StepJudge.Judge(Figures(p99: 50), Limit);
        Assert.True(atLimit.Passed);
        Assert.Equal(StepStop.None, atLimit.Stop);
        Assert.Empty(atLimit.Reasons);
    }

    [Fact]
    public void Judge_FailsOnP99AboveTheLimit()
    {
        var verdict = StepJudge.Judge(Figures(p99: 50.01), Limit);

        Assert.False(verdict.Passed);
        Assert.Equal(StepStop.P99, verdict.Stop);
        Assert.Equal(["p99 create -> offer 50.01 ms > 50 ms"], verdict.Reasons);
    }

    [Fact]
    public void Judge_FailsOnEveryOtherStopCondition_EvenWithAGoodP99()
    {
        Assert.Equal(StepStop.Errors, StepJudge.Judge(Figures() with { Errors = 1 }, Limit).Stop);
        Assert.Equal(StepStop.Errors, StepJudge.Judge(Figures() with { CreateFailed = 2 }, Limit).Stop);
        Assert.Equal(StepStop.Invariants, StepJudge.Judge(Figures() with { Invariants = new InvariantFigures { Lost = 1 } }, Limit).Stop);
        Assert.Equal(StepStop.Invariants, StepJudge.Judge(Figures() with { Invariants = new InvariantFigures { DoubleAssigned = 1 } }, Limit).Stop);
        Assert.Equal(StepStop.Invariants, StepJudge.Judge(Figures() with { Invariants = new InvariantFigures { OverCapacity = 1 } }, Limit).Stop);
        Assert.Equal(StepStop.Invariants, StepJudge.Judge(Figures() with { Invariants = new InvariantFigures { EndedTwice = 1 } }, Limit).Stop);
        Assert.Equal(StepStop.Unfinished, StepJudge.Judge(Figures() with { Unfinished = 3 }, Limit).Stop);
        Assert.Equal(StepStop.MissedOffers, StepJudge.Judge(Figures() with { MissedOffers = 1 }, Limit).Stop);
        Assert.Equal(StepStop.Refused, StepJudge.Judge(Figures() with { Refused = 1 }, Limit).Stop);
        Assert.Equal(StepStop.NoOffers, StepJudge.Judge(Figures() with { OffersMeasured = 0, P99OfferMs = -1 }, Limit).Stop);
    }

    [Fact]
    public void Judge_GivesEveryReason_MostSeriousFirst()
    {
        var verdict = StepJudge.Judge(Figures(p99: 900) with { Errors = 4, Unfinished = 2, Invariants = new InvariantFigures { Lost = 1 } }, Limit);

        Assert.Equal(StepStop.Invariants, verdict.Stop);
        Assert.Equal(4, verdict.Reasons.Count);
        Assert.StartsWith("invariants broken (lost 1", verdict.Reasons[0], StringComparison.Ordinal);
        Assert.Equal("4 errors", verdict.Reasons[1]);
        Assert.Equal("2 sessions unfinished after the drain", verdict.Reasons[2]);
        Assert.Equal("p99 create -> offer 900 ms > 50 ms", verdict.Reasons[3]);
        Assert.Equal("invariants", StepVerdict.Code(verdict.Stop));
        Assert.Equal("missed_offers", StepVerdict.Code(StepStop.MissedOffers));
    }

    [Fact]
    public void MaxSustainable_IsTheLastPassingStepBeforeTheFirstFailure()
    {
        var pass = new StepVerdict(true, StepStop.None, []);
        var fail = new StepVerdict(false, StepStop.P99, ["p99"]);

        Assert.Equal(150, StepJudge.MaxSustainable([(50, pass), (100, pass), (150, pass), (200, fail)]));
        Assert.Equal(100, StepJudge.MaxSustainable([(50, pass), (100, pass), (150, fail), (200, pass)]));
        Assert.Equal(0, StepJudge.MaxSustainable([(50, fail)]));
        Assert.Equal(0, StepJudge.MaxSustainable([]));
        Assert.Equal(200, StepJudge.MaxSustainable([(50, pass), (200, pass)]));
    }

    [Fact]
    public void StopBefore_StopsAtAFailedStep_PastTheLastRate_OnCancel_OrWhenTheBudgetIsSpent()
    {
        var pass = new StepVerdict(true, StepStop.None, []);
        var failed = new StepVerdict(false, StepStop.Errors, ["1 errors"]);
        var budget = 600;
        var early = TimeSpan.FromSeconds(30);

        Assert.Null(StepJudge.StopBefore([], 50, early, budget, cancelled: false));
        Assert.Null(StepJudge.StopBefore([(50, pass)], 100, early, budget, cancelled: false));
        Assert.Equal("errors", StepJudge.StopBefore([(50, pass), (100, failed)], 150, early, budget, cancelled: false));
        Assert.Equal("errors", StepJudge.StopBefore([(50, failed)], 100, TimeSpan.FromHours(1), budget, cancelled: true));
        Assert.Equal("max", StepJudge.StopBefore([(50, pass)], null, early, budget, cancelled: false));
        Assert.Equal("cancelled", StepJudge.StopBefore([(50, pass)], 100, early, budget, cancelled: true));
        Assert.Equal("budget", StepJudge.StopBefore([(50, pass)], 100, TimeSpan.FromSeconds(600), budget, cancelled: false));
    }

    [Fact]
    public void ResultLine_KeepsTheRunKeysFirst_WithTheSustainableStepsFigures_AndTheCountsOfEveryStep()
    {
        var report = Report(
            warmup: Step(0, 50, p99: 900, verdict: null),
            Step(1, 50, p99: 10),
            Step(2, 100, p99: 30),
            Step(3, 150, p99: 75, errors: 2, unfinished: 1, verdict: StepJudge.Judge(Figures(p99: 75) with { Errors = 2, Unfinished = 1 }, Limit)));

        Assert.Equal(
            "RESULT sessions_per_s=99.5 p99_offer_ms=30 errors=2 lost=0 double_assigned=0 over_capacity=0 ended_twice=0 " +
            "created=350 completed=349 unfinished=1 missed_offers=0 max_sustainable_per_s=100 steps=3 stopped_by=errors",
            report.ResultLine);
        Assert.Equal(100, report.MaxSustainablePerSecond);
        Assert.Equal(0, report.ExitCode);
        var markdown = report.ToMarkdown();
        Assert.Contains("**Highest sustainable rate: 100 sessions/s**", markdown, StringComparison.Ordinal);
        Assert.Contains("| 2 | 100 | 99.5 | 100 | 100 | 3 | 20 | 30 | 40 | 0 | 0 | 0 | hold | pass |", markdown, StringComparison.Ordinal);
        Assert.Contains("FAIL: 2 errors; 1 sessions unfinished after the drain; p99 create -> offer 75 ms > 50 ms", markdown, StringComparison.Ordinal);
        Assert.EndsWith("```\n" + report.ResultLine + "\n```\n", markdown, StringComparison.Ordinal);
        Assert.Contains("\"maxSustainablePerSecond\": 100", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_OnlyAStepThatFailedOnP99Alone_WhileRetriesRemain()
    {
        var slow = StepJudge.Judge(Figures(p99: 80), Limit);

        Assert.True(StepJudge.Retry(slow, attempt: 1, retries: 1));
        Assert.False(StepJudge.Retry(slow, attempt: 2, retries: 1));
        Assert.False(StepJudge.Retry(slow, attempt: 1, retries: 0));
        Assert.False(StepJudge.Retry(StepJudge.Judge(Figures(p99: 80) with { Errors = 1 }, Limit), attempt: 1, retries: 3));
        Assert.False(StepJudge.Retry(StepJudge.Judge(Figures(p99: 80) with { Invariants = new InvariantFigures { Lost = 1 } }, Limit), attempt: 1, retries: 3));
        Assert.False(StepJudge.Retry(StepJudge.Judge(Figures(), Limit), attempt: 1, retries: 3));
    }

    [Fact]
    public void Report_ShowsAnAttemptRunAgain_ButJudgesTheStepByItsLastAttempt()
    {
        var slowFirst = Step(2, 100, p99: 70) with { Attempt = 1 };
        var report = Report(null, Step(1, 50, p99: 10), Step(2, 100, p99: 30) with { Attempt = 2 }) with { Retried = [slowFirst] };

        Assert.Equal(100, report.MaxSustainablePerSecond);
        Assert.Contains(" steps=2 stopped_by=max", report.ResultLine, StringComparison.Ordinal);
        Assert.Contains("created=250 ", report.ResultLine, StringComparison.Ordinal);
        var markdown = report.ToMarkdown();
        Assert.Contains("FAIL: p99 create -> offer 70 ms > 50 ms (run again) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 2 (attempt 2) | 100 |", markdown, StringComparison.Ordinal);
        Assert.True(markdown.IndexOf("FAIL: p99", StringComparison.Ordinal) < markdown.IndexOf("| 2 (attempt 2) |", StringComparison.Ordinal));
    }

    [Fact]
    public void ResultLine_WhenNoStepPassed_SaysZero_WithTheFirstStepsP99_AndABrokenInvariantAnywhereExitsWith1()
    {
        var broken = new InvariantFigures { DoubleAssigned = 1 };
        var report = Report(null, Step(1, 50, p99: 80, invariants: broken, verdict: StepJudge.Judge(Figures(p99: 80) with { Invariants = broken }, Limit)));

        Assert.StartsWith("RESULT sessions_per_s=0 p99_offer_ms=80 errors=0 lost=0 double_assigned=1 ", report.ResultLine, StringComparison.Ordinal);
        Assert.EndsWith(" max_sustainable_per_s=0 steps=1 stopped_by=invariants", report.ResultLine, StringComparison.Ordinal);
        Assert.Equal(1, report.ExitCode);
    }

    private static StepFigures Figures(double p99 = 20) => new()
    {
        Rate = 100,
        Created = 1000,
        OffersMeasured = 1000,
        P99OfferMs = p99,
        Errors = 0,
        Invariants = new InvariantFigures(),
        Unfinished = 0,
        MissedOffers = 0,
        Refused = 0,
        CreateFailed = 0,
    };

    private static StepResult Step(int index, double rate, double p99, long errors = 0, int unfinished = 0, InvariantFigures? invariants = null, StepVerdict? verdict = null)
    {
        verdict ??= index == 0 ? null : StepJudge.Judge(Figures(p99), Limit);
        var created = (int)rate;
        var report = new LoadReport
        {
            RunId = "r",
            StartedAt = DateTimeOffset.UnixEpoch,
            CommandLine = "x",
            Machine = "2 cores",
            Settings = new Dictionary<string, string>(),
            Rates = new RateFigures(rate, rate, rate - 0.5, 1),
            Counts = new CountFigures { Created = created, Completed = created - unfinished, Unfinished = unfinished },
            Latencies = [new LatencySummary(LoadRun.OfferFromScheduled, created, 3, 20, p99, p99, p99 + 10, 5)],
            Errors = errors,
            ErrorsByKind = new Dictionary<string, long>(),
            Invariants = invariants ?? new InvariantFigures(),
            P99OfferMs = p99,
        };
        return StepResult.From(index, report, verdict, Limit);
    }

    private static StepRunReport Report(StepResult? warmup, params StepResult[] steps) => new()
    {
        RunId = "r",
        StartedAt = DateTimeOffset.UnixEpoch,
        CommandLine = "x",
        Machine = "2 cores",
        Settings = new Dictionary<string, string>(),
        Step = new StepSettings { FromRate = 50, By = 50, MaxRate = 2000, StepSeconds = 1, P99LimitMs = Limit, WarmupSeconds = 0, BudgetSeconds = 600 },
        Warmup = warmup,
        Steps = steps,
        StoppedBy = steps.Length > 0 && steps[^1].Verdict is { Passed: false } v ? StepVerdict.Code(v.Stop) : "max",
        WallSeconds = 10,
    };
}
