namespace RoutingCluster.SiloHost.Hubs;

public static class AgentDesktopPages
{
    /// <summary>
    /// The web agent desktop at <c>/agent/</c> (wwwroot/agent), the supervisors' wallboard at <c>/wallboard/</c>
    /// (wwwroot/wallboard), and the official SignalR browser client at <c>/lib/signalr/</c> (wwwroot/lib/signalr: a
    /// static web asset that the build copies from the npm package @microsoft/signalr, so a publish carries it).
    /// </summary>
    public static WebApplication MapAgentDesktop(this WebApplication app)
    {
        // "/agent" → "/agent/" (keeping the query, e.g. ?agent=a-17), and "/wallboard" → "/wallboard/". Middleware, not an endpoint: routing ignores
        // a trailing slash, so an endpoint for "/agent" would also catch "/agent/" and redirect it to itself.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value is "/agent" or "/wallboard")
            {
                context.Response.Redirect(context.Request.Path.Value + "/" + context.Request.QueryString);
                return Task.CompletedTask;
            }

            return next(context);
        });
        app.UseDefaultFiles();
        app.UseStaticFiles();
        return app;
    }
}
