using System.Globalization;
using System.Text.Json.Nodes;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>
/// What <c>GET /v1/stats</c> (each <c>groupBy</c>) and <c>GET /v1/queues/{id}/stats</c> should answer, as counts,
/// built from cells (recomputed from the session records, or read from <c>routing_interval</c>) the way the
/// statistics reader combines them: session counts from the queues' cells, agent time from the agents' cells.
/// </summary>
public sealed class KpiModel
{
    /// <summary>The KPI fields of every figures object, in the order of <see cref="KpiResponse"/>.</summary>
    public static readonly string[] SessionFields =
    [
        "offered", "answered", "answeredWithinThreshold", "abandoned", "overflowed", "refused",
        "answerRate", "serviceLevel", "averageSpeedOfAnswerSeconds", "averageTalkSeconds", "averageAfterCallWorkSeconds",
        "callbacks", "callbacksAnswered",
    ];

    /// <summary>The session fields and those that need agent time.</summary>
    public static readonly string[] AllFields = [.. SessionFields, "occupancy", "loggedInHours", "dailyHandledPerAgent"];

    public static readonly string[] GroupBys = ["queue", "channel", "segment", "agent", "interval"];

    public KpiCounters Total { get; private init; } = new();

    /// <summary>groupBy → key → counts.</summary>
    public Dictionary<string, Dictionary<string, KpiCounters>> Groups { get; } = new(StringComparer.Ordinal);

    /// <summary>Queue id → its total, and its counts by segment and by channel.</summary>
    public Dictionary<string, (KpiCounters Total, Dictionary<string, KpiCounters> BySegment, Dictionary<string, KpiCounters> ByChannel)> Queues { get; } = new(StringComparer.Ordinal);

    public static KpiModel From(IReadOnlyDictionary<StatsCell, KpiCounters> queueCells, IReadOnlyDictionary<StatsCell, KpiCounters> agentCells)
    {
        var totals = queueCells.Where(c => c.Key.Breakdown == Breakdown.Total).ToList();
        var total = KpiCounters.Sum(totals.Select(c => c.Value)).SessionPart();
        total.Add(KpiCounters.Sum(agentCells.Values.Select(c => c.TimePart())));
        var model = new KpiModel { Total = total };
        model.Groups["queue"] = SumBy(totals, c => c.Owner);
        model.Groups["channel"] = SumBy(queueCells.Where(c => c.Key.Breakdown == Breakdown.Channel), c => c.Value);
        model.Groups["segment"] = SumBy(queueCells.Where(c => c.Key.Breakdown == Breakdown.Segment), c => c.Value);
        model.Groups["agent"] = SumBy(agentCells, c => c.Owner);
        model.Groups["interval"] = SumBy(
            totals.Select(c => KeyValuePair.Create(c.Key, c.Value.SessionPart())).Concat(agentCells.Select(c => KeyValuePair.Create(c.Key, c.Value.TimePart()))),
            c => IntervalKey(c.Interval));
        foreach (var queue in totals.Select(c => c.Key.Owner).Distinct(StringComparer.Ordinal))
        {
            var own = queueCells.Where(c => c.Key.Owner == queue).ToList();
            model.Queues[queue] = (
                KpiCounters.Sum(own.Where(c => c.Key.Breakdown == Breakdown.Total).Select(c => c.Value)),
                SumBy(own.Where(c => c.Key.Breakdown == Breakdown.Segment), c => c.Value),
                SumBy(own.Where(c => c.Key.Breakdown == Breakdown.Channel), c => c.Value));
        }

        return model;
    }

    /// <summary>The key of an interval group: its start, as the API writes it.</summary>
    public static string IntervalKey(DateTimeOffset interval) => interval.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Whether a group of this kind carries agent time (occupancy, logged-in hours, daily handled).</summary>
    public static bool WithAgentTime(string groupBy) => groupBy is "queue" or "agent" or "interval";

    /// <summary>Every difference between the API's answers (one host) and this model, in <paramref name="fields"/>.</summary>
    public List<string> Differences(LiveStats live, IReadOnlyList<string> fields)
    {
        var diffs = new List<string>();
        foreach (var groupBy in GroupBys)
        {
            var json = live.Cluster[groupBy];
            Compare(diffs, $"stats?groupBy={groupBy} total", json["total"], Total, withAgentTime: true, fields);
            CompareGroups(diffs, $"stats?groupBy={groupBy}", json["groups"]!.AsArray(), Groups[groupBy], WithAgentTime(groupBy), fields);
        }

        foreach (var (queue, json) in live.Queues)
        {
            var (total, bySegment, byChannel) = Queues.TryGetValue(queue, out var q) ? q : (new KpiCounters(), [], []);
            Compare(diffs, $"queues/{queue}/stats", json, total, withAgentTime: true, fields);
            CompareMap(diffs, $"queues/{queue}/stats bySegment", json["bySegment"]!.AsObject(), bySegment, fields);
            CompareMap(diffs, $"queues/{queue}/stats byChannel", json["byChannel"]!.AsObject(), byChannel, fields);
        }

        return diffs;
    }

    /// <summary>The figures the API computes from these counts (its own rounding included), by field name.</summary>
    public static Dictionary<string, double?> Figures(KpiCounters counters, bool withAgentTime)
    {
        var r = new KpiResponse(KpiFigures.From(counters, withAgentTime, KpiFigures.DefaultStandardHoursPerAgentDay));
        return new Dictionary<string, double?>(StringComparer.Ordinal)
        {
            ["offered"] = r.Offered,
            ["answered"] = r.Answered,
            ["answeredWithinThreshold"] = r.AnsweredWithinThreshold,
            ["abandoned"] = r.Abandoned,
            ["overflowed"] = r.Overflowed,
            ["refused"] = r.Refused,
            ["answerRate"] = r.AnswerRate,
            ["serviceLevel"] = r.ServiceLevel,
            ["averageSpeedOfAnswerSeconds"] = r.AverageSpeedOfAnswerSeconds,
            ["averageTalkSeconds"] = r.AverageTalkSeconds,
            ["averageAfterCallWorkSeconds"] = r.AverageAfterCallWorkSeconds,
            ["callbacks"] = r.Callbacks,
            ["callbacksAnswered"] = r.CallbacksAnswered,
            ["occupancy"] = r.Occupancy,
            ["loggedInHours"] = r.LoggedInHours,
            ["dailyHandledPerAgent"] = r.DailyHandledPerAgent,
        };
    }

    /// <summary>Exact comparison of two sets of cells on one part of the counts (session counts or agent time).</summary>
    public static List<string> CellDifferences(string what, IReadOnlyDictionary<StatsCell, KpiCounters> expected, IReadOnlyDictionary<StatsCell, KpiCounters> actual, Func<KpiCounters, KpiCounters> part)
    {
        var diffs = new List<string>();
        foreach (var cell in expected.Keys.Union(actual.Keys).OrderBy(c => c.Owner, StringComparer.Ordinal).ThenBy(c => c.Interval).ThenBy(c => c.Breakdown).ThenBy(c => c.Value, StringComparer.Ordinal))
        {
            var e = part(expected.GetValueOrDefault(cell) ?? new KpiCounters());
            var a = part(actual.GetValueOrDefault(cell) ?? new KpiCounters());
            if (!e.Equals(a))
            {
                diffs.Add($"{what} {cell.Owner} {IntervalKey(cell.Interval)} {cell.Breakdown} {cell.Value}: expected [{e}], got [{a}]");
            }
        }

        return diffs;
    }

    private static Dictionary<string, KpiCounters> SumBy(IEnumerable<KeyValuePair<StatsCell, KpiCounters>> cells, Func<StatsCell, string> key)
    {
        var sums = new Dictionary<string, KpiCounters>(StringComparer.Ordinal);
        foreach (var (cell, counters) in cells)
        {
            var k = key(cell);
            if (!sums.TryGetValue(k, out var sum))
            {
                sums[k] = sum = new KpiCounters();
            }

            sum.Add(counters);
        }

        return sums;
    }

    private static void CompareGroups(List<string> diffs, string where, JsonArray groups, Dictionary<string, KpiCounters> expected, bool withAgentTime, IReadOnlyList<string> fields)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var key = HostApi.Str(group!, "key");
            if (!seen.Add(key))
            {
                diffs.Add($"{where}: group {key} twice");
            }

            Compare(diffs, $"{where} [{key}]", group, expected.GetValueOrDefault(key) ?? new KpiCounters(), withAgentTime, fields);
        }

        foreach (var (key, counters) in expected)
        {
            if (!seen.Contains(key) && Matters(counters, withAgentTime, fields))
            {
                diffs.Add($"{where}: no group {key} (expected [{counters}])");
            }
        }
    }

    private static void CompareMap(List<string> diffs, string where, JsonObject map, Dictionary<string, KpiCounters> expected, IReadOnlyList<string> fields)
    {
        foreach (var (key, value) in map)
        {
            Compare(diffs, $"{where} [{key}]", value, expected.GetValueOrDefault(key) ?? new KpiCounters(), withAgentTime: false, fields);
        }

        foreach (var (key, counters) in expected)
        {
            if (!map.ContainsKey(key) && Matters(counters, withAgentTime: false, fields))
            {
                diffs.Add($"{where}: no entry {key} (expected [{counters}])");
            }
        }
    }

    /// <summary>Whether an absent group is a difference: it has something to show in these fields.</summary>
    private static bool Matters(KpiCounters counters, bool withAgentTime, IReadOnlyList<string> fields) =>
        !(fields.Count == SessionFields.Length || !withAgentTime ? counters.SessionPart() : counters).IsEmpty;

    private static void Compare(List<string> diffs, string where, JsonNode? actual, KpiCounters expected, bool withAgentTime, IReadOnlyList<string> fields)
    {
        if (actual is null)
        {
            diffs.Add($"{where}: missing");
            return;
        }

        var figures = Figures(expected, withAgentTime);
        foreach (var field in fields)
        {
            var want = figures[field];
            var node = actual[field];
            double? got = node is null ? null : node.GetValue<double>();
            if (!Same(want, got))
            {
                diffs.Add(string.Create(CultureInfo.InvariantCulture, $"{where} {field}: expected {want?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}, got {got?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}"));
            }
        }
    }

    /// <summary>Equal, or both null; doubles within 1e-9 relative (the API writes them as shortest round-trip text).</summary>
    private static bool Same(double? a, double? b) =>
        (a, b) switch
        {
            (null, null) => true,
            ({ } x, { } y) => x == y || Math.Abs(x - y) <= 1e-9 * Math.Max(Math.Abs(x), Math.Abs(y)),
            _ => false,
        };
}

/// <summary>One host's answers to every statistics query, read at about the same moment.</summary>
public sealed class LiveStats
{
    /// <summary>groupBy → the answer of <c>GET /v1/stats</c>.</summary>
    public Dictionary<string, JsonNode> Cluster { get; } = new(StringComparer.Ordinal);

    /// <summary>Queue id → the answer of <c>GET /v1/queues/{id}/stats</c>.</summary>
    public Dictionary<string, JsonNode> Queues { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads them all over [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static async Task<LiveStats> ReadAsync(HostApi api, IEnumerable<string> queueIds, DateTimeOffset from, DateTimeOffset to)
    {
        var range = $"from={Uri.EscapeDataString(Iso(from))}&to={Uri.EscapeDataString(Iso(to))}";
        var live = new LiveStats();
        var cluster = KpiModel.GroupBys.Select(async g => (g, (await api.Get($"/v1/stats?{range}&groupBy={g}")).Success())).ToList();
        var queues = queueIds.Select(async q => (q, (await api.Get($"/v1/queues/{q}/stats?{range}")).Success())).ToList();
        foreach (var (g, json) in await Task.WhenAll(cluster))
        {
            live.Cluster[g] = json;
        }

        foreach (var (q, json) in await Task.WhenAll(queues))
        {
            live.Queues[q] = json;
        }

        return live;
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
}
