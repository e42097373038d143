namespace RoutingCluster.Abstractions.Metrics;

/// <summary>
/// The KPIs of the industry standard (China Banking Association, 2025, annex 1), computed from counts. Rates are
/// fractions in [0, 1]; durations are seconds. A figure whose denominator is zero is null: no data, not zero.
/// </summary>
/// <param name="AnswerRate">Answered / offered (人工接通率).</param>
/// <param name="ServiceLevel">Answered within the queue's threshold / offered (服务水平).</param>
/// <param name="AverageSpeedOfAnswerSeconds">(Queue time + offer time of answered sessions) / answered (平均应答速度).</param>
/// <param name="AverageTalkSeconds">Talk time / answered (平均通话时长); live, over the answered sessions whose talk has ended.</param>
/// <param name="AverageAfterCallWorkSeconds">After-call work time / answered (平均事后处理时长); live, over those whose after-call work has ended.</param>
/// <param name="Occupancy">(Ready-idle + offer + talk + after-call work time) / logged-in time (座席利用率).</param>
/// <param name="DailyHandledPerAgent">Answered / (agent working hours / standard hours per agent-day) (日人均话务处理量).</param>
/// <param name="Callbacks">Sessions whose customer asked to be called back (counted in <paramref name="Offered"/> too).</param>
/// <param name="CallbacksAnswered">Callbacks an agent connected with (counted in <paramref name="Answered"/> too).</param>
public sealed record KpiFigures(
    long Offered,
    long Answered,
    long AnsweredWithinThreshold,
    long Abandoned,
    long Overflowed,
    long Refused,
    double? AnswerRate,
    double? ServiceLevel,
    double? AverageSpeedOfAnswerSeconds,
    double? AverageTalkSeconds,
    double? AverageAfterCallWorkSeconds,
    double? Occupancy,
    double? LoggedInHours,
    double? DailyHandledPerAgent,
    long Callbacks = 0,
    long CallbacksAnswered = 0)
{
    /// <summary>The standard working hours of one agent in a day, when none is configured.</summary>
    public const double DefaultStandardHoursPerAgentDay = 8;

    /// <param name="counters">The counts.</param>
    /// <param name="withAgentTime">Whether the counts include agent time (queues, agents, the cluster) or not (a channel or segment).</param>
    /// <param name="standardHoursPerAgentDay">Standard working hours of one agent-day.</param>
    public static KpiFigures From(KpiCounters counters, bool withAgentTime, double standardHoursPerAgentDay = DefaultStandardHoursPerAgentDay)
    {
        var c = counters;
        var loggedIn = c.LoggedInTicks;
        var loggedInHours = TimeSpan.FromTicks(loggedIn).TotalHours;
        return new KpiFigures(
            c.Offered,
            c.Answered,
            c.AnsweredWithinThreshold,
            c.Abandoned,
            c.Overflowed,
            c.Refused,
            Ratio(c.Answered, c.Offered),
            Ratio(c.AnsweredWithinThreshold, c.Offered),
            Seconds(c.SpeedOfAnswerTicks, c.Answered),
            Seconds(c.TalkTicks, c.TalkCount),
            Seconds(c.AfterCallWorkTicks, c.AfterCallWorkCount),
            withAgentTime && loggedIn > 0 ? (double)(loggedIn - c.NotReadyTicks) / loggedIn : null,
            withAgentTime ? loggedInHours : null,
            withAgentTime && loggedIn > 0 ? c.Answered / (loggedInHours / standardHoursPerAgentDay) : null,
            c.Callbacks,
            c.CallbacksAnswered);
    }

    private static double? Ratio(long part, long whole) => whole > 0 ? (double)part / whole : null;

    private static double? Seconds(long ticks, long count) => count > 0 ? TimeSpan.FromTicks(ticks).TotalSeconds / count : null;
}

/// <summary>The 15-minute intervals statistics are kept in, aligned on the UTC clock (00:00, 00:15, ...).</summary>
public static class KpiIntervals
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(15);

    public static DateTimeOffset Start(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.UtcTicks - (utc.UtcTicks % Length.Ticks), TimeSpan.Zero);
    }

    public static DateTimeOffset DayStart(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Date, TimeSpan.Zero);
    }

    /// <summary>The parts of [<paramref name="from"/>, <paramref name="to"/>) in each interval, in ticks.</summary>
    public static IEnumerable<(DateTimeOffset Interval, long Ticks)> Split(DateTimeOffset from, DateTimeOffset to)
    {
        var at = from;
        while (at < to)
        {
            var interval = Start(at);
            var end = interval + Length;
            var until = end < to ? end : to;
            yield return (interval, (until - at).Ticks);
            at = until;
        }
    }
}
