using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Agents;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Hubs;
using RoutingCluster.SiloHost.Privacy;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;
using Serilog;

namespace RoutingCluster.SiloHost.Hosting;

public static class RoutingClusterHosting
{
    /// <summary>
    /// Everything the silo host runs: Serilog console logging (levels from the <c>Serilog</c> section), the
    /// Orleans silo with the profile's clustering and grain storage (<see cref="ClusterProfile"/>), the routing
    /// grains, and the HTTP API's JSON conventions, problem details, body size limit and API description.
    /// </summary>
    public static WebApplicationBuilder AddRoutingCluster(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;

        // The host logs through a logger of its own, never the static Log.Logger: several hosts in one process (the
        // tests) each keep their own levels and sinks, and one that stops does not silence the others.
        builder.Services.AddSerilog((services, log) => log
            .ReadFrom.Configuration(configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .Destructure.With<PersonalDataDestructuringPolicy>()
            .WriteTo.Console(
                outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture),
            preserveStaticLogger: true);

        // Read before anything else is set up: a profile that cannot run stops the host here.
        var profile = ClusterProfile.From(configuration);
        builder.Services.AddSingleton(profile);
        builder.Services.AddHostedService<ClusterProfileNotice>();
        builder.AddRoutingHealth();
        builder.AddRoutingAccess();
        builder.AddRoutingPrivacy();
        builder.AddRoutingTelemetry();
        builder.AddSessionAdmission();

        builder.UseOrleans(silo =>
        {
            silo.UseRoutingProfile(profile);
            silo.AddRoutingDashboard(configuration, builder.Environment);

            // No stream provider: a gateway that follows a session registers with the session grain itself
            // (ISessionFollower), and desktops with their agent grain, so nothing is published that nobody reads.
        });
        builder.Services.AddRoutingGrains();

        // The audit log: PostgreSQL's routing_audit with postgres storage (registered by the profile), else this silo's memory.
        builder.Services.Configure<Audit.AuditOptions>(configuration.GetSection(Audit.AuditOptions.Section));
        builder.Services.TryAddSingleton<RoutingCluster.Abstractions.Audit.IAuditLog>(services =>
            new Audit.MemoryAuditLog(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Audit.AuditOptions>>().Value.MemoryCapacity));
        builder.Services.AddSingleton<Audit.AuditTrail>();
        builder.Services.Configure<AgentOptions>(configuration.GetSection("Agents"));
        builder.Services.Configure<RoutingCluster.Grains.Queues.QueueOptions>(configuration.GetSection("Queues"));
        builder.Services.Configure<RoutingCluster.Grains.Metrics.StatsOptions>(configuration.GetSection("Stats"));

        // Agent desktops: the SignalR hub and this silo's relay that agent grains push to.
        builder.Services.AddSignalR().AddJsonProtocol(options => WireJson.Configure(options.PayloadSerializerOptions));
        builder.Services.AddSingleton<AgentDesktopRelay>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AgentDesktopRelay>());

        // Supervisors' wallboards: this silo's publisher reads the figures and pushes them over /hubs/wallboard.
        builder.Services.Configure<WallboardOptions>(configuration.GetSection("Wallboard"));
        builder.Services.AddSingleton<Alerts.AlertMonitor>();
        builder.Services.AddSingleton<Staffing.StaffingSimulator>();
        builder.Services.AddSingleton<Staffing.StaffingNow>();
        builder.Services.AddSingleton<WallboardPublisher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<WallboardPublisher>());

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // A 503 is transient (cluster or database briefly unavailable): tell the client when to retry (unless the
            // answer says so itself, as admission's refusals do).
            if (context.ProblemDetails.Status == StatusCodes.Status503ServiceUnavailable
                && !context.HttpContext.Response.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.RetryAfter))
            {
                context.HttpContext.Response.Headers.RetryAfter = Api.RoutingApi.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        });
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            WireJson.Configure(options.SerializerOptions);

            // Request bodies are read with WireJson.Requests (numbers only as JSON numbers); the same here makes
            // the API description say so. Responses are written the same either way.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddApiDescription();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = Limits.MaxBodyBytes);
        return builder;
    }
}
