using System.Globalization;
using RoutingCluster.Abstractions.Metrics;

namespace RoutingCluster.Tests.Shared;

/// <summary>One entry of <c>routing_session.history</c>: <c>{"state","at","queue","agent","note"}</c>.</summary>
public sealed record HistoryEntry(string State, DateTimeOffset At, string Queue, string? Agent, string? Note);

/// <summary>A callback the customer asked for, as the answer to <c>POST /v1/sessions/{id}/callback</c> showed it:
/// <c>callback.requestedAt</c> (stamped by the session) and <c>callback.at</c> (null: at once, at the session's place).</summary>
public sealed record ObservedCallback(DateTimeOffset RequestedAt, DateTimeOffset? At);

/// <summary>What the KPIs are recomputed from, per session: a <c>routing_session</c> row (or a session view): state, channel and
/// segments as wire names, and the history; and the callbacks its gateway asked for, which the history does not record.</summary>
public sealed record StoredSession(string Id, string State, string Channel, IReadOnlyList<string> Segments, IReadOnlyList<HistoryEntry> History)
{
    public static readonly string[] TerminalStates = ["completed", "abandoned", "overflowed", "refused"];

    public bool IsTerminal => TerminalStates.Contains(State, StringComparer.Ordinal);

    /// <summary>The callbacks the gateway was granted (200 answers to its callback requests; the same one answered
    /// twice is one), in any order. A transfer ends a callback (the customer is on the line with the agent), so a
    /// session of several stays may have asked for one in each.</summary>
    public IReadOnlyList<ObservedCallback> Callbacks { get; init; } = [];
}

/// <summary>
/// Every session KPI recomputed from the stored session records alone, in the cells the statistics grains keep
/// (<see cref="StatsCell"/>: queue total, queue × channel, queue × segment, agent; per 15-minute interval).
/// </summary>
/// <remarks>
/// The unit is a leg: a session's stay in one queue. A leg starts at a "queued" entry that opens the history (creation),
/// follows "connected" (a transfer) or follows "queued" (overflow to another queue at max wait); "queued" after
/// "offered" (a rejected or missed offer) stays in the leg. Its queue is that entry's queue and its interval the
/// 15-minute UTC interval of that entry's time. Per leg: offered 1; answered when it has a "connected" entry (speed =
/// connected − leg start, within the threshold when ≤ the queue's service-level seconds); talk = connected → the next
/// entry; after-call work = wrap-up → completed, or 0 for a transfer; abandoned / overflowed when it ends so, or
/// overflowed when a queued → queued overflow follows it. A history opening with "refused" counts refused (not offered)
/// in that entry's queue; a session that a full queue sent to its overflow queue at creation ("queue X full; overflowed
/// here") counts refused in X as well. Channel and segments are the row's columns; per agent, the answer, talk and
/// after-call work of a leg go to the agent of its "connected" entry. Durations are exact ticks.
/// <para>
/// Callbacks (<see cref="StoredSession.Callbacks"/>): a callback belongs to the leg in progress when it was requested
/// (the last leg that started at or before its <c>requestedAt</c>), at most one per leg. Such a leg counts callbacks 1
/// (it is still offered once), and when answered callbacks answered 1 as well as answered 1, for its queue and its
/// agent; a scheduled callback's speed of answer counts from its <c>at</c> (it waited from then on), an immediate
/// one's from the leg's start like any session's (it kept its place). Its interval is still the leg's start.
/// </para>
/// </remarks>
public sealed class KpiRecompute
{
    private const string OverflowedHereSuffix = " full; overflowed here";

    private readonly IReadOnlyDictionary<string, double> _serviceLevelSeconds;

    private KpiRecompute(IReadOnlyDictionary<string, double> serviceLevelSeconds) => _serviceLevelSeconds = serviceLevelSeconds;

    /// <summary>Queue cells (owner = queue id: total, channel and segment breakdowns) with the session counts.</summary>
    public Dictionary<StatsCell, KpiCounters> QueueCells { get; } = [];

    /// <summary>Agent cells (owner = agent id, total breakdown) with the counts of the legs they answered.</summary>
    public Dictionary<StatsCell, KpiCounters> AgentCells { get; } = [];

    public int Sessions { get; private set; }

    public int Legs { get; private set; }

    public int Transfers { get; private set; }

    /// <summary>Legs that left their queue unanswered at max wait for another queue (queued → queued).</summary>
    public int OverflowsToAnotherQueue { get; private set; }

    /// <summary>Legs that ended "overflowed" (max wait, nowhere to go).</summary>
    public int OverflowsTerminal { get; private set; }

    /// <summary>Sessions refused outright ("refused" first entry).</summary>
    public int RefusedOutright { get; private set; }

    /// <summary>Sessions a full queue sent to its overflow queue at creation (refused there, offered here).</summary>
    public int RefusedIntoOverflow { get; private set; }

    public int Abandons { get; private set; }

    public int Answers { get; private set; }

    /// <summary>Rejected or missed offers (queued after offered).</summary>
    public int OffersReturned { get; private set; }

    /// <summary>Legs whose customer asked to be called back.</summary>
    public int Callbacks { get; private set; }

    /// <summary>Of those, the legs an agent connected with.</summary>
    public int CallbacksAnswered { get; private set; }

    /// <summary>The latest instant of any history entry: when the last session reached its final state.</summary>
    public DateTimeOffset LastTransition { get; private set; }

    public static KpiRecompute From(IEnumerable<StoredSession> sessions, IReadOnlyDictionary<string, double> serviceLevelSeconds)
    {
        var r = new KpiRecompute(serviceLevelSeconds);
        foreach (var session in sessions)
        {
            r.Add(session);
        }

        return r;
    }

    private void Add(StoredSession s)
    {
        Sessions++;
        var h = s.History;
        if (h.Count == 0)
        {
            throw new InvalidOperationException($"Session {s.Id} has no history.");
        }

        if (h[^1].At > LastTransition)
        {
            LastTransition = h[^1].At;
        }

        if (h[0].State == "refused")
        {
            if (s.Callbacks.Count > 0)
            {
                throw new InvalidOperationException($"Session {s.Id}: refused, yet granted a callback.");
            }

            RefusedOutright++;
            AddQueue(s, h[0].Queue, KpiIntervals.Start(h[0].At), new KpiCounters { Refused = 1 });
            return;
        }

        var callbacks = s.Callbacks.Distinct().OrderBy(c => c.RequestedAt).ToList();
        Leg? leg = null;
        for (var i = 0; i < h.Count; i++)
        {
            var e = h[i];
            var previous = i > 0 ? h[i - 1] : null;
            var next = i + 1 < h.Count ? h[i + 1] : null;
            switch (e.State)
            {
                case "queued" when previous is null || previous.State is "connected" or "queued":
                    if (previous is null && e.Note is { } note && note.StartsWith("queue ", StringComparison.Ordinal) && note.EndsWith(OverflowedHereSuffix, StringComparison.Ordinal))
                    {
                        RefusedIntoOverflow++;
                        var fullQueue = note["queue ".Length..^OverflowedHereSuffix.Length];
                        AddQueue(s, fullQueue, KpiIntervals.Start(e.At), new KpiCounters { Refused = 1 });
                    }

                    if (previous?.State == "queued")
                    {
                        OverflowsToAnotherQueue++;
                        leg!.Counts.Overflowed++;
                    }
                    else if (previous?.State == "connected")
                    {
                        Transfers++;
                    }

                    if (leg is not null)
                    {
                        Close(s, leg, TakeCallback(s, callbacks, leg, until: e.At));
                    }

                    Legs++;
                    leg = new Leg(e.Queue, e.At);
                    leg.Counts.Offered = 1;
                    break;

                case "queued":
                    if (previous!.State != "offered")
                    {
                        throw new InvalidOperationException($"Session {s.Id}: queued after {previous.State} at entry {i}.");
                    }

                    OffersReturned++;
                    break;

                case "connected":
                    Answers++;
                    leg!.Agent = e.Agent ?? throw new InvalidOperationException($"Session {s.Id}: connected with no agent.");
                    leg.ConnectedAt = e.At; // its speed of answer when the leg closes: a callback's may count from its time
                    leg.Counts.Answered = 1;
                    if (next is not null)
                    {
                        leg.Counts.TalkCount = 1;
                        leg.Counts.TalkTicks = (next.At - e.At).Ticks;
                        if (next.State == "queued")
                        {
                            leg.Counts.AfterCallWorkCount = 1; // a transfer: after-call work 0
                        }
                    }

                    break;

                case "wrap-up" when next is { State: "completed" }:
                    leg!.Counts.AfterCallWorkCount = 1;
                    leg.Counts.AfterCallWorkTicks = (next.At - e.At).Ticks;
                    break;

                case "abandoned":
                    Abandons++;
                    leg!.Counts.Abandoned = 1;
                    break;

                case "overflowed":
                    OverflowsTerminal++;
                    leg!.Counts.Overflowed = 1;
                    break;

                default:
                    break; // offered, wrap-up (counted from connected / with completed), completed
            }
        }

        if (leg is not null)
        {
            Close(s, leg, TakeCallback(s, callbacks, leg, until: null));
        }

        if (callbacks.Count > 0)
        {
            throw new InvalidOperationException($"Session {s.Id}: a callback requested at {callbacks[0].RequestedAt:O}, in none of its stays.");
        }
    }

    /// <summary>The callback requested during <paramref name="leg"/> (from its start until the next leg's, or ever
    /// after when <paramref name="until"/> is null), taken out of <paramref name="callbacks"/>; null when none.</summary>
    private static ObservedCallback? TakeCallback(StoredSession s, List<ObservedCallback> callbacks, Leg leg, DateTimeOffset? until)
    {
        var during = callbacks.Where(c => c.RequestedAt >= leg.Start && (until is null || c.RequestedAt < until)).ToList();
        if (during.Count > 1)
        {
            throw new InvalidOperationException($"Session {s.Id}: {during.Count} different callbacks in one stay (from {leg.Start:O}).");
        }

        foreach (var c in during)
        {
            callbacks.Remove(c);
        }

        return during.FirstOrDefault();
    }

    private void Close(StoredSession s, Leg leg, ObservedCallback? callback)
    {
        if (callback is not null)
        {
            Callbacks++;
            leg.Counts.Callbacks = 1;
        }

        if (leg.ConnectedAt is { } connectedAt)
        {
            // A scheduled callback waited from its time; an immediate one kept its place, so it waited from the leg's start.
            var speed = connectedAt - (callback?.At ?? leg.Start);
            leg.Counts.SpeedOfAnswerTicks = speed.Ticks;
            leg.Counts.AnsweredWithinThreshold = speed <= TimeSpan.FromSeconds(_serviceLevelSeconds[leg.Queue]) ? 1 : 0;
            if (callback is not null)
            {
                CallbacksAnswered++;
                leg.Counts.CallbacksAnswered = 1;
            }
        }

        var interval = KpiIntervals.Start(leg.Start);
        AddQueue(s, leg.Queue, interval, leg.Counts);
        if (leg.Agent is { } agent)
        {
            var agentPart = new KpiCounters
            {
                Answered = leg.Counts.Answered,
                AnsweredWithinThreshold = leg.Counts.AnsweredWithinThreshold,
                SpeedOfAnswerTicks = leg.Counts.SpeedOfAnswerTicks,
                TalkCount = leg.Counts.TalkCount,
                TalkTicks = leg.Counts.TalkTicks,
                AfterCallWorkCount = leg.Counts.AfterCallWorkCount,
                AfterCallWorkTicks = leg.Counts.AfterCallWorkTicks,
                CallbacksAnswered = leg.Counts.CallbacksAnswered,
            };
            Add(AgentCells, StatsCell.Total(agent, interval), agentPart);
        }
    }

    private void AddQueue(StoredSession s, string queue, DateTimeOffset interval, KpiCounters counts)
    {
        Add(QueueCells, StatsCell.Total(queue, interval), counts);
        Add(QueueCells, new StatsCell(queue, interval, Breakdown.Channel, s.Channel), counts);
        foreach (var segment in s.Segments)
        {
            Add(QueueCells, new StatsCell(queue, interval, Breakdown.Segment, segment), counts);
        }
    }

    private static void Add(Dictionary<StatsCell, KpiCounters> cells, StatsCell cell, KpiCounters counts)
    {
        if (!cells.TryGetValue(cell, out var sum))
        {
            cells[cell] = sum = new KpiCounters();
        }

        sum.Add(counts);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Sessions} sessions, {Legs} legs, {Answers} answered, {Transfers} transfers, {OverflowsToAnotherQueue} overflows to another queue, "
        + $"{OverflowsTerminal} ended overflowed, {RefusedOutright} refused outright, {RefusedIntoOverflow} refused into the overflow queue, "
        + $"{Abandons} abandoned, {OffersReturned} offers rejected or missed, {Callbacks} callbacks ({CallbacksAnswered} answered)");

    private sealed class Leg(string queue, DateTimeOffset start)
    {
        public string Queue { get; } = queue;

        public DateTimeOffset Start { get; } = start;

        public string? Agent { get; set; }

        /// <summary>When an agent connected with it (its "connected" entry), if one did.</summary>
        public DateTimeOffset? ConnectedAt { get; set; }

        public KpiCounters Counts { get; } = new();
    }
}
