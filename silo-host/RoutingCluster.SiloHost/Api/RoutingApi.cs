using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Hosting;
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
            StatusCodeSelector = ex => IsTransient(ex) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseRoutingAccess();

        app.MapGroup("/v1/sessions").MapSessionsApi();
        app.MapGroup("/v1/agents").MapAgentsApi();
        app.MapGroup("/v1/queues").MapQueuesApi().MapQueueStats().MapQueueStaffing();
        app.MapGroup("/v1/stats").MapStatsApi().RequireAuthorization(AccessPolicies.ReadFigures);
        app.MapGroup("/v1/alerts").MapAlertsApi().RequireAuthorization(AccessPolicies.ReadFigures);
        app.MapGroup("/v1/audit").MapAuditApi();
        app.MapApiDescription();
        app.MapRoutingHealth();
        app.MapRoutingTelemetry();

        // A hub connection ends when its token does, so a role taken away stops working by the token's expiry.
        app.MapHub<AgentHub>("/hubs/agent", hub => hub.CloseOnAuthenticationExpiration = true).RequireAuthorization(AccessPolicies.AgentDesktop);
        app.MapHub<WallboardHub>("/hubs/wallboard", hub => hub.CloseOnAuthenticationExpiration = true).RequireAuthorization(AccessPolicies.ReadFigures);
        app.MapAgentDesktop();
        return app;
    }

    /// <summary>How long a client should wait before retrying a request refused with 503.</summary>
    public const int RetryAfterSeconds = 2;

    /// <summary>
    /// Failures that pass by themselves, so the request may be retried (503 with Retry-After): the cluster did
    /// not answer in time, a silo was unavailable, or the database could not be reached (a grain could not read
    /// or write its state; the grain is reactivated from the database on the next request, so nothing half-done
    /// remains). Everything else is a 500.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException
                or Orleans.Storage.InconsistentStateException or System.Data.Common.DbException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }
}
