using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Hubs;

namespace RoutingCluster.SiloHost.Api;

public static class RoutingApi
{
    /// <summary>
    /// The public HTTP contract (v1). Errors are problem details, including unhandled exceptions (500, or 503
    /// when the cluster did not answer in time or a silo was unavailable) and bodiless answers such as an
    /// unknown route (404). Every route runs <see cref="InputValidationFilter"/> first (added by each resource's
    /// Map...Api), so bad input never reaches a grain.
    /// </summary>
    public static WebApplication MapRoutingApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException
                ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();

        app.MapGroup("/v1/sessions").MapSessionsApi();
        app.MapGroup("/v1/agents").MapAgentsApi();
        app.MapGroup("/v1/queues").MapQueuesApi();
        app.MapApiDescription();
        app.MapHub<AgentHub>("/hubs/agent");
        app.MapAgentDesktop();
        return app;
    }
}
