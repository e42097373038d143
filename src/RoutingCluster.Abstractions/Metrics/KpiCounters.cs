namespace RoutingCluster.Abstractions.Metrics;

/// <summary>
/// The additive counts behind every KPI, for one cell (a queue, channel, segment or agent in one 15-minute
/// interval). Durations are whole ticks, so sums are exact whatever order silos add them in: live figures,
/// persisted intervals and a recomputation from the session records agree to the tick.
/// </summary>
/// <remarks>
/// The unit of the session counts is a stay in a queue: a session offered to a queue is counted there when it
/// starts waiting, and every later count of that stay (answer, talk, after-call work) goes to the interval in
/// which it started waiting. A session transferred or overflowed to another queue starts a new stay there.
/// Agent time is counted in the interval in which it passes.
/// </remarks>
[GenerateSerializer, Alias("rc.kpi-counters")]
public sealed class KpiCounters
{
    /// <summary>Sessions that started waiting in a human queue (offered, 人工呼入量).</summary>
    [Id(0)] public long Offered { get; set; }

    /// <summary>Sessions an agent connected with (answered, 人工接通量).</summary>
    [Id(1)] public long Answered { get; set; }

    /// <summary>Answered sessions whose speed of answer was within the queue's service-level threshold.</summary>
    [Id(2)] public long AnsweredWithinThreshold { get; set; }

    /// <summary>Sessions the customer left while waiting or being offered.</summary>
    [Id(3)] public long Abandoned { get; set; }

    /// <summary>Sessions that left the queue unanswered for another queue, or ended at the queue's maximum wait.</summary>
    [Id(4)] public long Overflowed { get; set; }

    /// <summary>Sessions the queue turned away because it was full (not offered: they never waited there).</summary>
    [Id(5)] public long Refused { get; set; }

    /// <summary>Queue time plus offer (ringing) time of the answered sessions.</summary>
    [Id(6)] public long SpeedOfAnswerTicks { get; set; }

    /// <summary>Answered sessions whose talk has ended.</summary>
    [Id(7)] public long TalkCount { get; set; }

    [Id(8)] public long TalkTicks { get; set; }

    /// <summary>Answered sessions whose after-call work has ended (a transferred session has none: zero, counted at the transfer).</summary>
    [Id(9)] public long AfterCallWorkCount { get; set; }

    [Id(10)] public long AfterCallWorkTicks { get; set; }

    /// <summary>Agent time ready with nothing to do.</summary>
    [Id(11)] public long IdleTicks { get; set; }

    /// <summary>Agent time with offers ringing and no session connected or in wrap-up.</summary>
    [Id(12)] public long RingingTicks { get; set; }

    /// <summary>Agent time with at least one session connected.</summary>
    [Id(13)] public long BusyTicks { get; set; }

    /// <summary>Agent time in after-call work, with no session connected.</summary>
    [Id(14)] public long WrapUpTicks { get; set; }

    /// <summary>Agent time logged in but not ready, with nothing to do.</summary>
    [Id(15)] public long NotReadyTicks { get; set; }

    /// <summary>Sessions whose customer asked to be called back (the stay is counted once, in <see cref="Offered"/>).</summary>
    [Id(16)] public long Callbacks { get; set; }

    /// <summary>Callbacks an agent connected with (also counted in <see cref="Answered"/>).</summary>
    [Id(17)] public long CallbacksAnswered { get; set; }

    public long LoggedInTicks => IdleTicks + RingingTicks + BusyTicks + WrapUpTicks + NotReadyTicks;

    public bool IsEmpty =>
        Offered == 0 && Answered == 0 && AnsweredWithinThreshold == 0 && Abandoned == 0 && Overflowed == 0 && Refused == 0
        && SpeedOfAnswerTicks == 0 && TalkCount == 0 && TalkTicks == 0 && AfterCallWorkCount == 0 && AfterCallWorkTicks == 0
        && LoggedInTicks == 0 && Callbacks == 0 && CallbacksAnswered == 0;

    public void Add(KpiCounters other)
    {
        Offered += other.Offered;
        Answered += other.Answered;
        AnsweredWithinThreshold += other.AnsweredWithinThreshold;
        Abandoned += other.Abandoned;
        Overflowed += other.Overflowed;
        Refused += other.Refused;
        SpeedOfAnswerTicks += other.SpeedOfAnswerTicks;
        TalkCount += other.TalkCount;
        TalkTicks += other.TalkTicks;
        AfterCallWorkCount += other.AfterCallWorkCount;
        AfterCallWorkTicks += other.AfterCallWorkTicks;
        IdleTicks += other.IdleTicks;
        RingingTicks += other.RingingTicks;
        BusyTicks += other.BusyTicks;
        WrapUpTicks += other.WrapUpTicks;
        NotReadyTicks += other.NotReadyTicks;
        Callbacks += other.Callbacks;
        CallbacksAnswered += other.CallbacksAnswered;
    }

    /// <summary>Adds agent time spent in <paramref name="activity"/>.</summary>
    public void AddTime(AgentActivity activity, long ticks)
    {
        switch (activity)
        {
            case AgentActivity.Idle: IdleTicks += ticks; break;
            case AgentActivity.Ringing: RingingTicks += ticks; break;
            case AgentActivity.Busy: BusyTicks += ticks; break;
            case AgentActivity.WrapUp: WrapUpTicks += ticks; break;
            case AgentActivity.NotReady: NotReadyTicks += ticks; break;
            default: break; // logged out: not working time
        }
    }

    /// <summary>The session counts only (agent time zero): a queue's share of a cluster-wide sum, whose agent time
    /// comes from the agents themselves (an agent serving two queues is counted in both queues' occupancy).</summary>
    public KpiCounters SessionPart()
    {
        var part = Copy();
        part.IdleTicks = part.RingingTicks = part.BusyTicks = part.WrapUpTicks = part.NotReadyTicks = 0;
        return part;
    }

    /// <summary>The agent time only.</summary>
    public KpiCounters TimePart() => new()
    {
        IdleTicks = IdleTicks,
        RingingTicks = RingingTicks,
        BusyTicks = BusyTicks,
        WrapUpTicks = WrapUpTicks,
        NotReadyTicks = NotReadyTicks,
    };

    public KpiCounters Copy()
    {
        var copy = new KpiCounters();
        copy.Add(this);
        return copy;
    }

    public static KpiCounters Sum(IEnumerable<KpiCounters> all)
    {
        var sum = new KpiCounters();
        foreach (var c in all)
        {
            sum.Add(c);
        }

        return sum;
    }

    public override bool Equals(object? obj) => obj is KpiCounters o
        && Offered == o.Offered && Answered == o.Answered && AnsweredWithinThreshold == o.AnsweredWithinThreshold
        && Abandoned == o.Abandoned && Overflowed == o.Overflowed && Refused == o.Refused
        && SpeedOfAnswerTicks == o.SpeedOfAnswerTicks && TalkCount == o.TalkCount && TalkTicks == o.TalkTicks
        && AfterCallWorkCount == o.AfterCallWorkCount && AfterCallWorkTicks == o.AfterCallWorkTicks
        && IdleTicks == o.IdleTicks && RingingTicks == o.RingingTicks && BusyTicks == o.BusyTicks
        && WrapUpTicks == o.WrapUpTicks && NotReadyTicks == o.NotReadyTicks
        && Callbacks == o.Callbacks && CallbacksAnswered == o.CallbacksAnswered;

    public override int GetHashCode() => HashCode.Combine(Offered, Answered, Abandoned, SpeedOfAnswerTicks, TalkTicks, LoggedInTicks);

    public override string ToString() =>
        $"offered {Offered}, answered {Answered} ({AnsweredWithinThreshold} in threshold), abandoned {Abandoned}, overflowed {Overflowed}, refused {Refused}, "
        + $"asa {SpeedOfAnswerTicks}t, talk {TalkCount}/{TalkTicks}t, acw {AfterCallWorkCount}/{AfterCallWorkTicks}t, "
        + $"idle {IdleTicks}t, ringing {RingingTicks}t, busy {BusyTicks}t, wrap-up {WrapUpTicks}t, not-ready {NotReadyTicks}t, "
        + $"callbacks {Callbacks} ({CallbacksAnswered} answered)";
}

/// <summary>What an agent is doing, for time accounting. Work held outranks the chosen state: a not-ready agent
/// still talking is busy.</summary>
public enum AgentActivity
{
    LoggedOut,
    NotReady,
    Idle,
    Ringing,
    WrapUp,
    Busy,
}
