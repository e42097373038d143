using System.Globalization;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// The step mode's settings (<c>--step-from</c> and the options beside it): the Poisson rate is raised step by step,
/// each step for <see cref="StepSeconds"/>, until a step fails (<see cref="StepJudge"/>) or the rate would pass
/// <see cref="MaxRate"/>, and the highest rate whose step passed is the highest sustainable rate.
/// </summary>
internal sealed record StepSettings
{
    /// <summary>At most this many steps, whatever the rates (a bound on the run's time besides <see cref="BudgetSeconds"/>).</summary>
    public const int MaxSteps = 100;

    public required double FromRate { get; init; }

    /// <summary>Added to the rate at each step (null when <see cref="Factor"/> is given).</summary>
    public double? By { get; init; }

    /// <summary>The rate is multiplied by this at each step (null when <see cref="By"/> is given).</summary>
    public double? Factor { get; init; }

    public required double MaxRate { get; init; }

    public required int StepSeconds { get; init; }

    /// <summary>A step fails when p99 create → offer (from scheduled) is above this.</summary>
    public required double P99LimitMs { get; init; }

    /// <summary>Seconds at <see cref="FromRate"/> before the first step, measured and checked but not judged (a cold
    /// host compiles and activates in its first seconds).</summary>
    public required int WarmupSeconds { get; init; }

    /// <summary>No step starts once the run (set-up included) has lasted this long.</summary>
    public required int BudgetSeconds { get; init; }

    /// <summary>A step that fails on p99 alone is run again (fresh sessions) up to this many times, and judged by its
    /// last attempt: on a shared machine a burst of other work can fail one step. Errors, broken invariants and
    /// unfinished sessions are never retried.</summary>
    public int Retries { get; init; }

    /// <summary>The rates of the steps, in order: <see cref="FromRate"/>, then raised by <see cref="By"/> or
    /// <see cref="Factor"/> while not above <see cref="MaxRate"/>, at most <see cref="MaxSteps"/> of them.</summary>
    public IReadOnlyList<double> Rates() => StepPlan.Rates(FromRate, By, Factor, MaxRate);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"from {FromRate}/s {(Factor is { } f ? $"x{f}" : $"+{By}")} per step up to {MaxRate}/s, {StepSeconds} s per step, p99 limit {P99LimitMs} ms");
}

internal static class StepPlan
{
    /// <summary>The step rates (see <see cref="StepSettings.Rates"/>); rates are rounded to 0.01/s.</summary>
    public static IReadOnlyList<double> Rates(double from, double? by, double? factor, double max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(from);
        if (by is null == factor is null)
        {
            throw new ArgumentException("Give exactly one of a step increment and a step factor.");
        }

        if (by is <= 0 || factor is <= 1)
        {
            throw new ArgumentException("The step increment must be above 0 and the step factor above 1.");
        }

        var rates = new List<double>();
        for (var k = 0; k < StepSettings.MaxSteps; k++)
        {
            var rate = Math.Round(by is { } d ? from + (k * d) : from * Math.Pow(factor!.Value, k), 2, MidpointRounding.AwayFromZero);
            if (rate > max + 1e-9)
            {
                break;
            }

            rates.Add(rate);
        }

        return rates;
    }
}

/// <summary>What one step measured, as the judge needs it.</summary>
internal sealed record StepFigures
{
    public required double Rate { get; init; }

    public required int Created { get; init; }

    /// <summary>Sessions whose offer reached a desktop and were measured (warm-up left out).</summary>
    public required long OffersMeasured { get; init; }

    /// <summary>p99 create → offer from the scheduled time, in ms (-1 when no offer was measured).</summary>
    public required double P99OfferMs { get; init; }

    public required long Errors { get; init; }

    public required InvariantFigures Invariants { get; init; }

    public required int Unfinished { get; init; }

    public required long MissedOffers { get; init; }

    public required int Refused { get; init; }

    public required int CreateFailed { get; init; }
}

/// <summary>Why a step failed, most serious first; <see cref="None"/> when it passed.</summary>
internal enum StepStop
{
    None,
    Invariants,
    Errors,
    Unfinished,
    MissedOffers,
    Refused,
    NoOffers,
    P99,
}

/// <summary>The judge's answer for one step: passed or not, the first reason (the stop code), and every reason.</summary>
internal sealed record StepVerdict(bool Passed, StepStop Stop, IReadOnlyList<string> Reasons)
{
    /// <summary>The stop code as the RESULT line writes it: p99, errors, invariants, unfinished, missed_offers, refused, no_offers.</summary>
    public static string Code(StepStop stop) => stop switch
    {
        StepStop.None => "none",
        StepStop.MissedOffers => "missed_offers",
        StepStop.NoOffers => "no_offers",
        _ => stop.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// Decides whether a step's rate was sustained: every session offered, answered and ended (none unfinished, no
/// missed offer, none refused), no error, every invariant held, and p99 create → offer (from scheduled) at or
/// under the limit. A plain function of the step's figures, so it is tested without a host.
/// </summary>
internal static class StepJudge
{
    public static StepVerdict Judge(StepFigures figures, double p99LimitMs)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var reasons = new List<(StepStop Stop, string Text)>();
        var inv = figures.Invariants;
        if (!inv.Hold)
        {
            reasons.Add((StepStop.Invariants, string.Create(CultureInfo.InvariantCulture,
                $"invariants broken (lost {inv.Lost}, double assigned {inv.DoubleAssigned}, over capacity {inv.OverCapacity}, ended twice {inv.EndedTwice})")));
        }

        if (figures.Errors > 0 || figures.CreateFailed > 0)
        {
            reasons.Add((StepStop.Errors, string.Create(CultureInfo.InvariantCulture, $"{Math.Max(figures.Errors, figures.CreateFailed)} errors")));
        }

        if (figures.Unfinished > 0)
        {
            reasons.Add((StepStop.Unfinished, string.Create(CultureInfo.InvariantCulture, $"{figures.Unfinished} sessions unfinished after the drain")));
        }

        if (figures.MissedOffers > 0)
        {
            reasons.Add((StepStop.MissedOffers, string.Create(CultureInfo.InvariantCulture, $"{figures.MissedOffers} offers expired before the accept")));
        }

        if (figures.Refused > 0)
        {
            reasons.Add((StepStop.Refused, string.Create(CultureInfo.InvariantCulture, $"{figures.Refused} sessions refused (queue full, or 503/429 under overload)")));
        }

        if (figures.OffersMeasured == 0 || figures.P99OfferMs < 0)
        {
            reasons.Add((StepStop.NoOffers, "no offer was measured"));
        }
        else if (figures.P99OfferMs > p99LimitMs)
        {
            reasons.Add((StepStop.P99, string.Create(CultureInfo.InvariantCulture, $"p99 create -> offer {figures.P99OfferMs:0.##} ms > {p99LimitMs:0.##} ms")));
        }

        return reasons.Count == 0
            ? new StepVerdict(true, StepStop.None, [])
            : new StepVerdict(false, reasons.Min(r => r.Stop), [.. reasons.OrderBy(r => r.Stop).Select(r => r.Text)]);
    }

    /// <summary>
    /// The highest sustainable rate: the rate of the last step that passed before the first that failed (steps run
    /// in rising order and the run stops at the first failure); 0 when the first step failed.
    /// </summary>
    public static double MaxSustainable(IReadOnlyList<(double Rate, StepVerdict Verdict)> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var best = 0.0;
        foreach (var (rate, verdict) in steps)
        {
            if (!verdict.Passed)
            {
                break;
            }

            best = rate;
        }

        return best;
    }

    /// <summary>Why the run stopped after the steps so far, or null to go on to <paramref name="nextRate"/>.</summary>
    /// <summary>Whether a failed step may be run again: it failed on p99 alone and has retries left.</summary>
    public static bool Retry(StepVerdict verdict, int attempt, int retries)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return !verdict.Passed && verdict.Stop == StepStop.P99 && attempt <= retries;
    }

    public static string? StopBefore(IReadOnlyList<(double Rate, StepVerdict Verdict)> steps, double? nextRate, TimeSpan elapsed, int budgetSeconds, bool cancelled)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count > 0 && !steps[^1].Verdict.Passed)
        {
            return StepVerdict.Code(steps[^1].Verdict.Stop);
        }

        if (cancelled)
        {
            return "cancelled";
        }

        if (nextRate is null)
        {
            return "max";
        }

        return elapsed.TotalSeconds >= budgetSeconds ? "budget" : null;
    }
}
