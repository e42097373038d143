using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Staffing;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Staffing;

namespace RoutingCluster.SiloHost.Api;

/// <summary>
/// <c>GET /v1/queues/{id}/staffing</c>: the staffing what-if (supervisor, analyst). Arrivals and AHT default to what
/// the queue measured over the last 60 minutes; the answer is computed by formula (Erlang C, or Erlang A with a
/// patience) or by running the queue's own policy in the simulator.
/// </summary>
public static class StaffingApi
{
    /// <summary>The largest offered load answered (arrivals × AHT), in Erlangs.</summary>
    public const double MaxErlangs = 2_000;

    public const double MaxArrivalsPerHour = 1_000_000;

    private static readonly (string Name, string Description)[] Parameters =
    [
        ("arrivalsPerHour", "Arrivals per hour; default: measured in the queue over the last 60 minutes."),
        ("ahtSeconds", "Average handling time (talk + after-call work), seconds; default: measured over the last 60 minutes."),
        ("targetServiceLevel", "Target share of arrivals answered within the threshold, in (0, 1); default 0.8."),
        ("thresholdSeconds", "Service-level threshold, seconds; default: the queue's serviceLevelSeconds."),
        ("patienceSeconds", "Mean patience, seconds (exponential); default: none (customers never leave)."),
        ("method", "formula (default: Erlang C, or Erlang A with a patience) | simulation (the queue's own policy in the simulator)."),
    ];

    /// <summary>Maps <c>GET /v1/queues/{id}/staffing</c> on the queues group.</summary>
    public static RouteGroupBuilder MapQueueStaffing(this RouteGroupBuilder queues)
    {
        queues.MapGet("/{id}/staffing", GetQueueStaffing).WithName(nameof(GetQueueStaffing))
            .WithSummary("Staffing what-if: how many agents a load needs, and service level, ASA and abandons against the number of agents")
            .WithDescription("Query: " + string.Join("; ", Parameters.Select(p => $"{p.Name}: {p.Description}")))
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(Access.AccessPolicies.ReadFigures)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Parameters ??= [];
                foreach (var (name, description) in Parameters)
                {
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = name,
                        In = ParameterLocation.Query,
                        Required = false,
                        Description = description,
                        Schema = name == "method"
                            ? new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. WireNames.Of(typeof(StaffingMethod)).Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v))] }
                            : new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double" },
                    });
                }

                return Task.CompletedTask;
            });
        return queues;
    }

    public static async Task<Results<Ok<StaffingResponse>, ValidationProblem, ProblemHttpResult>> GetQueueStaffing(
        string id, HttpRequest request, StatsReader stats, StaffingSimulator simulator, CancellationToken cancellationToken)
    {
        if (!StaffingQuery.TryRead(request.Query, out var query, out var errors))
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var now = stats.Now;
        if (await stats.QueueAsync(id, now - MeasuredLoad.Window, now) is not { } report)
        {
            return Problems.NotFound($"Queue '{id}' does not exist.");
        }

        var measured = MeasuredLoad.From(report);
        var arrivals = query.ArrivalsPerHour ?? measured.ArrivalsPerHour;
        var aht = query.AhtSeconds ?? measured.AhtSeconds;
        if (arrivals is null)
        {
            errors.Add("arrivalsPerHour", "No arrivals were measured in the queue over the last 60 minutes: give arrivalsPerHour.");
        }

        if (aht is null or <= 0)
        {
            errors.Add("ahtSeconds", "No handling time was measured in the queue over the last 60 minutes: give ahtSeconds.");
        }

        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var load = new StaffingLoad(arrivals!.Value, aht!.Value, query.ThresholdSeconds ?? report.Policy.ServiceLevelSeconds, query.PatienceSeconds);
        if (load.Erlangs > MaxErlangs)
        {
            return Problems.Invalid(query.ArrivalsPerHour is null ? "ahtSeconds" : "arrivalsPerHour", $"The load (arrivals per second × AHT) may be at most {MaxErlangs} Erlangs.");
        }

        var target = query.TargetServiceLevel ?? 0.8;
        IReadOnlyDictionary<string, StaffingSegmentResponse>? bySegment = null;
        StaffingPlan plan;
        if (query.Method == StaffingMethod.Simulation)
        {
            var simulated = await simulator.PlanAsync(load, target, report.Policy, measured.ElderlyShare, cancellationToken);
            plan = simulated.Plan;
            bySegment = simulated.BySegment;
        }
        else
        {
            plan = StaffingPlan.ByFormula(load, target);
        }

        var live = report.Live;
        return TypedResults.Ok(new StaffingResponse(
            id,
            query.Method,
            Math.Round(load.ArrivalsPerHour, 3),
            Wire.Seconds(load.AhtSeconds),
            target,
            load.ThresholdSeconds,
            load.PatienceSeconds,
            plan.AgentsNeeded,
            live.AgentsIdle + live.AgentsBusy + live.AgentsNotReady,
            live.AgentsIdle,
            StaffingFiguresResponse.From(plan.Predicted, bySegment),
            [.. plan.Table.Select(StaffingRowResponse.From)]));
    }
}

/// <summary>The query of a staffing what-if, read strictly: every problem names its parameter.</summary>
internal sealed record StaffingQuery(double? ArrivalsPerHour, double? AhtSeconds, double? TargetServiceLevel, double? ThresholdSeconds, double? PatienceSeconds, StaffingMethod Method)
{
    private static readonly string[] Names = ["arrivalsPerHour", "ahtSeconds", "targetServiceLevel", "thresholdSeconds", "patienceSeconds", "method"];

    public static bool TryRead(IQueryCollection query, out StaffingQuery result, out FieldErrors errors)
    {
        errors = new FieldErrors();
        errors.OnlyParameters(query, Names);

        var arrivals = Number(query, "arrivalsPerHour", errors, min: 0, max: StaffingApi.MaxArrivalsPerHour, minExclusive: true);
        var aht = Number(query, "ahtSeconds", errors, min: 0, max: 86_400, minExclusive: true);
        var target = Number(query, "targetServiceLevel", errors, min: 0, max: 1, minExclusive: true, maxExclusive: true);
        var threshold = Number(query, "thresholdSeconds", errors, min: 0, max: Limits.MaxSeconds);
        var patience = Number(query, "patienceSeconds", errors, min: 0, max: Limits.MaxSeconds, minExclusive: true);
        var method = StaffingMethod.Formula;
        if (query.TryGetValue("method", out var m) && m.Count == 1 && !WireNames<StaffingMethod>.TryParse(m.ToString(), out method))
        {
            errors.Add("method", $"Must be one of: {WireNames<StaffingMethod>.Allowed}.");
        }

        result = new StaffingQuery(arrivals, aht, target, threshold, patience, method);
        return !errors.Any;
    }

    private static double? Number(IQueryCollection query, string name, FieldErrors errors, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        if (!query.TryGetValue(name, out var values) || values.Count != 1)
        {
            return null;
        }

        var text = values.ToString();
        if (text.Length > 32
            || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value)
            || (minExclusive ? value <= min : value < min)
            || (maxExclusive ? value >= max : value > max))
        {
            var low = minExclusive ? $"greater than {min.ToString(CultureInfo.InvariantCulture)}" : $"at least {min.ToString(CultureInfo.InvariantCulture)}";
            var high = maxExclusive ? $"less than {max.ToString(CultureInfo.InvariantCulture)}" : $"at most {max.ToString(CultureInfo.InvariantCulture)}";
            errors.Add(name, $"Must be a number {low} and {high}.");
            return null;
        }

        return value;
    }
}
