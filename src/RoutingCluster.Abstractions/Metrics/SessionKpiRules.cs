namespace RoutingCluster.Abstractions.Metrics;

/// <summary>
/// What each step of a session's lifecycle adds to the KPI counts of its queue (and agent), in one place: the session
/// grain records these, and the figures in <see cref="KpiFigures"/> are computed from them.
/// </summary>
public static class SessionKpiRules
{
    /// <summary>The session started waiting in a queue (created, transferred or overflowed there): one more offered.</summary>
    public static KpiCounters Queued() => new() { Offered = 1 };

    /// <summary>The queue (and its overflow queue, if any) was full.</summary>
    public static KpiCounters Refused() => new() { Refused = 1 };

    /// <summary>The customer asked to be called back (counted once per stay; the stay is still one offered session).</summary>
    public static KpiCounters CallbackRequested() => new() { Callbacks = 1 };

    /// <summary>An agent answered after <paramref name="speed"/> of waiting in this stay (for a scheduled callback, from its
    /// time); within the queue's threshold or not.</summary>
    public static KpiCounters Answered(TimeSpan speed, double serviceLevelSeconds, bool callback = false) => new()
    {
        Answered = 1,
        CallbacksAnswered = callback ? 1 : 0,
        SpeedOfAnswerTicks = speed.Ticks,
        AnsweredWithinThreshold = speed <= TimeSpan.FromSeconds(serviceLevelSeconds) ? 1 : 0,
    };

    /// <summary>The customer hung up while queued or offered (counted for the queue, not the agent).</summary>
    public static KpiCounters Abandoned() => new() { Abandoned = 1 };

    /// <summary>The talk ended; wrap-up follows.</summary>
    public static KpiCounters TalkEnded(TimeSpan talk) => new() { TalkCount = 1, TalkTicks = talk.Ticks };

    /// <summary>The agent transferred the session away: its talk ends now, with no after-call work of its own.</summary>
    public static KpiCounters TransferredAway(TimeSpan talk) => new() { TalkCount = 1, TalkTicks = talk.Ticks, AfterCallWorkCount = 1 };

    /// <summary>The wrap-up ended: after-call work of that length.</summary>
    public static KpiCounters WrappedUp(TimeSpan afterCallWork) => new() { AfterCallWorkCount = 1, AfterCallWorkTicks = afterCallWork.Ticks };

    /// <summary>The session waited the queue's maximum and left it.</summary>
    public static KpiCounters Overflowed() => new() { Overflowed = 1 };
}
