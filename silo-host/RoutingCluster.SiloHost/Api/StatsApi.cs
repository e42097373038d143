using System.Globalization;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api;

/// <summary>
/// <c>/v1/stats</c> and <c>/v1/queues/{id}/stats</c>: live KPIs for analysts and supervisors, over the current UTC
/// day unless <c>from</c>/<c>to</c> are given (then from the persisted 15-minute intervals that overlap the range).
/// </summary>
public static class StatsApi
{
    /// <summary>The longest range one query may cover.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(31);

    public static RouteGroupBuilder MapStatsApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<InputValidationFilter>().WithApiConventions("Stats");
        group.MapGet("/", GetClusterStats).WithName(nameof(GetClusterStats))
            .WithSummary("Cluster-wide KPIs, grouped by queue, channel, segment, agent or interval")
            .WithDescription("Query: from, to (ISO-8601 UTC; default: today so far), groupBy = queue (default) | channel | segment | agent | interval.");
        return group;
    }

    /// <summary>Maps <c>GET /v1/queues/{id}/stats</c> on the queues group.</summary>
    public static RouteGroupBuilder MapQueueStats(this RouteGroupBuilder queues)
    {
        queues.MapGet("/{id}/stats", GetQueueStats).WithName(nameof(GetQueueStats))
            .WithSummary("A queue's live KPIs: waiting now, longest wait, agents by state, and the day's figures by segment and channel")
            .WithDescription("Query: from, to (ISO-8601 UTC; default: today so far).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(Access.AccessPolicies.ReadFigures);
        return queues;
    }

    public static async Task<Results<Ok<QueueStatsResponse>, ValidationProblem, ProblemHttpResult>> GetQueueStats(string id, HttpRequest request, StatsReader stats)
    {
        if (!StatsRange.TryRead(request, stats.Now, allowGroupBy: false, out var range, out var errors))
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        return await stats.QueueAsync(id, range.From, range.To) is { } report
            ? TypedResults.Ok(new QueueStatsResponse(report, stats.StandardHoursPerAgentDay))
            : Problems.NotFound($"Queue '{id}' does not exist.");
    }

    public static async Task<Results<Ok<ClusterStatsResponse>, ValidationProblem>> GetClusterStats(HttpRequest request, StatsReader stats)
    {
        if (!StatsRange.TryRead(request, stats.Now, allowGroupBy: true, out var range, out var errors))
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var report = await stats.ClusterAsync(range.From, range.To, range.GroupBy);
        return TypedResults.Ok(new ClusterStatsResponse(report, stats.StandardHoursPerAgentDay));
    }
}

/// <summary>The <c>from</c>, <c>to</c> and <c>groupBy</c> of a stats query, read strictly: every problem names its parameter.</summary>
internal readonly record struct StatsRange(DateTimeOffset From, DateTimeOffset To, StatsGroupBy GroupBy)
{
    private static readonly Dictionary<string, StatsGroupBy> GroupNames = new(StringComparer.Ordinal)
    {
        ["queue"] = StatsGroupBy.Queue,
        ["channel"] = StatsGroupBy.Channel,
        ["segment"] = StatsGroupBy.Segment,
        ["agent"] = StatsGroupBy.Agent,
        ["interval"] = StatsGroupBy.Interval,
    };

    public static bool TryRead(HttpRequest request, DateTimeOffset now, bool allowGroupBy, out StatsRange range, out FieldErrors errors)
    {
        errors = new FieldErrors();
        var query = request.Query;
        foreach (var name in query.Keys)
        {
            if (name is not ("from" or "to") && !(allowGroupBy && name == "groupBy"))
            {
                errors.Add(name, allowGroupBy ? "Unknown parameter: the parameters are from, to and groupBy." : "Unknown parameter: the parameters are from and to.");
            }
            else if (query[name].Count > 1)
            {
                errors.Add(name, "Give it once.");
            }
        }

        var to = Time(query, "to", errors) ?? now;
        var from = Time(query, "from", errors) ?? KpiIntervals.DayStart(to.AddTicks(-1));
        var groupBy = StatsGroupBy.Queue;
        if (allowGroupBy && query.TryGetValue("groupBy", out var g) && !GroupNames.TryGetValue(g.ToString(), out groupBy))
        {
            errors.Add("groupBy", "Must be one of queue, channel, segment, agent, interval.");
        }

        if (!errors.Any)
        {
            if (from >= to)
            {
                errors.Add("from", "Must be before 'to'.");
            }
            else if (to - from > StatsApi.MaxRange)
            {
                errors.Add("to", $"The range may cover at most {StatsApi.MaxRange.TotalDays:0} days.");
            }
        }

        range = new StatsRange(from, to, groupBy);
        return !errors.Any;
    }

    internal static DateTimeOffset? Time(IQueryCollection query, string name, FieldErrors errors)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        var text = values.ToString();
        if (text.Length is < 10 or > 40
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            || time.Year < 2000 || time.Year > 9000)
        {
            errors.Add(name, "Must be an ISO-8601 time, e.g. 2026-11-23T08:00:00Z.");
            return null;
        }

        return time;
    }
}
