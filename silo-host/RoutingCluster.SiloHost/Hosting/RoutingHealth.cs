using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Health endpoints for orchestrators and <c>scripts/cluster.sh</c>, and the host's graceful-shutdown budget.
/// <list type="bullet">
/// <item><c>GET /health/live</c>: 200 while the process runs and serves HTTP.</item>
/// <item><c>GET /health/ready</c>: 200 only when this silo is <c>Active</c> in the cluster membership and the grain
/// storage answers (PostgreSQL: <c>SELECT 1</c> on <c>ConnectionStrings:Routing</c> within
/// <c>Health:StorageTimeoutSeconds</c>, 2 s by default; memory: always); 503 otherwise.</item>
/// </list>
/// Both answer <c>{"status","checks":[{"name","status","description"}]}</c> and are left out of the OpenAPI
/// document. <c>Hosting:ShutdownTimeoutSeconds</c> (30 by default) is how long the host waits on SIGTERM for the
/// silo to stop gracefully: grains deactivate (state already written) and the silo leaves the membership. A stop
/// still running <c>Hosting:ShutdownGraceSeconds</c> (5) after that is ended by the <see cref="ShutdownWatchdog"/>.
/// </summary>
public static class RoutingHealth
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    private const string LiveTag = "live";
    private const string ReadyTag = "ready";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static WebApplicationBuilder AddRoutingHealth(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var shutdown = configuration.GetValue<double?>("Hosting:ShutdownTimeoutSeconds") ?? 30;
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(shutdown));

        // Ends a signalled stop that outlives the timeout (Orleans does not give up on it with the database down).
        builder.Services.AddSingleton(services => new ShutdownWatchdog(
            services.GetRequiredService<IOptions<HostOptions>>(),
            configuration,
            TimeProvider.System,
            services.GetRequiredService<RoutingCluster.Grains.Metrics.KpiCollector>(),
            services.GetRequiredService<RoutingCluster.Grains.Metrics.UnwrittenStats>(),
            services.GetRequiredService<ILogger<ShutdownWatchdog>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<ShutdownWatchdog>());

        builder.Services.AddSingleton<SiloMembershipHealthCheck>();
        builder.Services.AddSingleton<StorageHealthCheck>();
        builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("the process is running"), [LiveTag])
            .AddCheck<SiloMembershipHealthCheck>("membership", tags: [ReadyTag])
            .AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag]);
        return builder;
    }

    public static WebApplication MapRoutingHealth(this WebApplication app)
    {
        app.MapHealthChecks(LivePath, Options(LiveTag)).ExcludeFromDescription().AllowAnonymous();
        app.MapHealthChecks(ReadyPath, Options(ReadyTag)).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
        ResponseWriter = WriteAsync,
    };

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new HealthBody(
            Status(report.Status),
            // Anyone may ask for the status; the checks' details (silo addresses, storage) only an sre.
            context.User.IsInRole(Access.Roles.Sre)
                ? [.. report.Entries.Select(e => new HealthEntry(e.Key, Status(e.Value.Status), e.Value.Description ?? e.Value.Exception?.Message))]
                : []);
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }

    private static string Status(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };

    private sealed record HealthBody(string Status, IReadOnlyList<HealthEntry> Checks);

    private sealed record HealthEntry(string Name, string Status, string? Description);
}

/// <summary>Healthy when the local silo is <c>Active</c> in the cluster membership.</summary>
internal sealed class SiloMembershipHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Resolved per check: the silo's services exist once the host is built, and the check must not fail
        // the whole report if the silo is not there.
        var local = services.GetService<ILocalSiloDetails>();
        var membership = services.GetService<IClusterMembershipService>();
        if (local is null || membership is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("no Orleans silo in this host"));
        }

        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        var description = $"silo {local.SiloAddress} is {status} (membership version {membership.CurrentSnapshot.Version})";
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy(description)
            : HealthCheckResult.Unhealthy(description));
    }
}

/// <summary>Healthy when the grain storage answers: <c>SELECT 1</c> on PostgreSQL with a short timeout; memory always.</summary>
internal sealed class StorageHealthCheck(ClusterProfile profile, IConfiguration configuration) : IHealthCheck
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(configuration.GetValue<double?>("Health:StorageTimeoutSeconds") ?? 2);
    private readonly string? _connectionString = Probe(profile.ConnectionString, configuration.GetValue<double?>("Health:StorageTimeoutSeconds") ?? 2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (profile.Storage != ClusterProfile.Postgres || _connectionString is null)
        {
            return HealthCheckResult.Healthy($"{profile.Storage} storage (not durable)");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("postgres answered SELECT 1");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"postgres did not answer within {_timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"postgres did not answer: {e.Message}");
        }
    }

    /// <summary>The routing connection string with short connect and command timeouts, in a pool of its own
    /// (Application Name differs) so that a probe never waits behind the providers' connections.</summary>
    private static string? Probe(string? connectionString, double seconds)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        var whole = Math.Max(1, (int)Math.Ceiling(seconds));
        return new NpgsqlConnectionStringBuilder(connectionString)
        {
            Timeout = whole,
            CommandTimeout = whole,
            ApplicationName = "routing-health",
            MaxPoolSize = 2,
        }.ConnectionString;
    }
}
