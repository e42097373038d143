using RoutingCluster.SiloHost.Alerts;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api;

/// <summary><c>/v1/alerts</c>: the queues' active alerts (supervisor, analyst).</summary>
public static class AlertsApi
{
    public static RouteGroupBuilder MapAlertsApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<InputValidationFilter>().WithApiConventions("Alerts");
        group.MapGet("/", GetAlerts).WithName(nameof(GetAlerts))
            .WithSummary("The active alerts of every queue")
            .WithDescription("An alert is raised when a queue's figure goes out of one of its alert bounds (checked every second) and cleared once it has been back within the bound for 10 s.");
        return group;
    }

    public static Ok<IReadOnlyList<AlertResponse>> GetAlerts(AlertMonitor alerts) => TypedResults.Ok(alerts.Active);
}
