using Microsoft.Extensions.FileProviders;

namespace RoutingCluster.SiloHost.Hubs;

public static class AgentDesktopPages
{
    /// <summary>
    /// The web agent desktop at <c>/agent/</c> (wwwroot/agent) and the official SignalR browser client at
    /// <c>/lib/signalr/</c>, served from the npm package the build installs (node_modules/@microsoft/signalr).
    /// </summary>
    public static WebApplication MapAgentDesktop(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        var signalr = Path.Combine(app.Environment.ContentRootPath, "node_modules", "@microsoft", "signalr", "dist", "browser");
        if (Directory.Exists(signalr))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(signalr), RequestPath = "/lib/signalr" });
        }

        app.MapGet("/agent", () => TypedResults.Redirect("/agent/")).ExcludeFromDescription();
        return app;
    }
}
