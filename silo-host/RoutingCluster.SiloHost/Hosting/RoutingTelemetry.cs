using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using Prometheus;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// What SREs and dashboards read, on the host's own HTTP port:
/// <list type="bullet">
/// <item><c>GET /metrics</c>: Prometheus text format, through prometheus-net's adapter for
/// <see cref="System.Diagnostics.Metrics"/> (the OpenTelemetry Prometheus exporter is beta only). It publishes the
/// meters of <see cref="ExportedMeters"/> (the routing metrics, <see cref="RoutingMetrics"/>, and Npgsql's, whole) and a
/// chosen set of instruments of Orleans, ASP.NET Core and Kestrel, SignalR and the .NET runtime
/// (<see cref="ExportedInstruments"/>); and prometheus-net's process metrics (<c>process_*</c>).</item>
/// <item>OTLP: when <c>OpenTelemetry:OtlpEndpoint</c> (or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) is set,
/// the OpenTelemetry SDK also pushes the same meters to that collector; otherwise the SDK is not added at all.</item>
/// <item><c>/dashboard</c>: the Orleans Dashboard (silos, grains, calls) when <c>Telemetry:Dashboard</c> is true; unset,
/// only in the Development environment. Its call filter wraps every grain call of the silo, which costs a loaded silo
/// CPU, and it has no authentication of its own. Its live log view is off unless <c>Telemetry:DashboardTrace</c> is true.</item>
/// </list>
/// Both routes are left out of the OpenAPI document.
/// </summary>
public static class RoutingTelemetry
{
    public const string MetricsPath = "/metrics";
    public const string DashboardPath = "/dashboard";

    /// <summary>The meters exported to Prometheus and OTLP alike (a trailing <c>.*</c> matches a name prefix).</summary>
    public static IReadOnlyList<string> ExportedMeters { get; } =
    [
        RoutingMetrics.MeterName,
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.*",
        "System.Runtime",
        "Npgsql",
    ];

    /// <summary>
    /// Orleans' sizes of the messages this silo sent over the network (<c>orleans-messaging-sent-messages-size</c>, a
    /// histogram, labelled by connection and message direction and by the silo at the other end): its count is the
    /// number of messages that crossed to another silo (or, on a gateway connection, to an external Orleans client).
    /// A call between grains of one silo, or from this host's HTTP edge and hubs to a grain of the same silo, is
    /// not in it.
    /// </summary>
    public const string SentMessagesInstrument = "orleans_messaging_sent_messages_size";

    /// <summary>
    /// Of the framework meters, the instruments exported (by name, with <c>.</c> and <c>-</c> read as <c>_</c>, as the
    /// Prometheus names show them); a meter not named here is exported whole. Orleans alone publishes some 500 series
    /// (directory, ring, header sizes, ...), most of which nobody reads: what is chosen is what an operator's
    /// dashboard, the alerts and the load driver's cost per lifecycle read.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> ExportedInstruments { get; } = new Dictionary<string, IReadOnlySet<string>>
    {
        ["Microsoft.Orleans"] = Names(
            "orleans_grains", "orleans_catalog_activations", "orleans_catalog_activation_created",
            "orleans_app_requests_latency", "orleans_app_requests_timedout",
            "orleans_messaging_processing_dispatcher_received", "orleans_messaging_processing_dispatcher_forwarded",
            SentMessagesInstrument, "orleans_messaging_rejected", "orleans_messaging_expired", "orleans_messaging_dropped",
            "orleans_storage_read_latency", "orleans_storage_write_latency", "orleans_storage_read_errors", "orleans_storage_write_errors",
            "orleans_storage_clear_errors", "orleans_membership_active_cluster", "orleans_watchdog_health_checks"),
        ["Microsoft.AspNetCore.Hosting"] = Names("http_server_request_duration", "http_server_active_requests"),
        ["Microsoft.AspNetCore.Server.Kestrel"] = Names(
            "kestrel_active_connections", "kestrel_connection_duration", "kestrel_queued_connections", "kestrel_rejected_connections"),
        ["Microsoft.AspNetCore.Http.Connections"] = Names("signalr_server_active_connections", "signalr_server_connection_duration"),
        ["Microsoft.AspNetCore.Diagnostics"] = Names("aspnetcore_diagnostics_exceptions"),
        ["Microsoft.AspNetCore.MemoryPool"] = Names(),
        ["Microsoft.AspNetCore.Routing"] = Names(),
        ["System.Runtime"] = Names(
            "dotnet_gc_collections", "dotnet_gc_pause_time", "dotnet_gc_heap_total_allocated", "dotnet_gc_last_collection_heap_size",
            "dotnet_process_cpu_time", "dotnet_process_memory_working_set", "dotnet_thread_pool_queue_length",
            "dotnet_thread_pool_thread_count", "dotnet_thread_pool_work_item_count", "dotnet_monitor_lock_contentions", "dotnet_exceptions"),
    };

    /// <summary>Registers the Prometheus export of the meters (listening from host start, so nothing recorded
    /// before the first scrape is lost) and, when a collector is configured, the OpenTelemetry OTLP export.</summary>
    public static WebApplicationBuilder AddRoutingTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<PrometheusExport>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PrometheusExport>());

        var configuration = builder.Configuration;
        var endpoint = configuration["OpenTelemetry:OtlpEndpoint"];
        if (string.IsNullOrWhiteSpace(endpoint)
            && string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            && string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]))
        {
            return builder;
        }

        // service.name is the application name unless OTEL_SERVICE_NAME says otherwise; the exporter reads the
        // other standard OTEL_* variables (protocol, headers, export interval) itself.
        builder.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter([.. ExportedMeters])
            .AddView(instrument => IsExported(instrument) ? null : MetricStreamConfiguration.Drop)
            .AddOtlpExporter(otlp => ConfigureOtlp(otlp, endpoint, configuration["OpenTelemetry:OtlpProtocol"])));
        return builder;
    }

    /// <summary>Adds the Orleans Dashboard's silo services when asked for (see <see cref="DashboardEnabled"/>).</summary>
    public static ISiloBuilder AddRoutingDashboard(this ISiloBuilder silo, IConfiguration configuration, IHostEnvironment environment)
    {
        if (DashboardEnabled(configuration, environment))
        {
            // The live log view streams this silo's log to whoever opens the page: off unless asked for.
            var trace = configuration.GetValue("Telemetry:DashboardTrace", false);
            silo.AddDashboard(options => options.HideTrace = !trace);
        }

        return silo;
    }

    /// <summary>Maps <c>/metrics</c> and, when enabled, <c>/dashboard</c>, both outside the API description.</summary>
    public static WebApplication MapRoutingTelemetry(this WebApplication app)
    {
        var export = app.Services.GetRequiredService<PrometheusExport>();
        app.MapMetrics(MetricsPath, export.Registry).ExcludeFromDescription().RequireAuthorization(Access.AccessPolicies.Operate);
        if (DashboardEnabled(app.Configuration, app.Environment))
        {
            app.MapOrleansDashboard(routePrefix: DashboardPath).ExcludeFromDescription().RequireAuthorization(Access.AccessPolicies.Operate);
        }

        return app;
    }

    /// <summary>Whether <paramref name="meterName"/> is one of <see cref="ExportedMeters"/>.</summary>
    public static bool IsExported(string meterName) => ExportedMeters.Any(pattern => pattern.EndsWith(".*", StringComparison.Ordinal)
        ? meterName.StartsWith(pattern[..^1], StringComparison.Ordinal)
        : string.Equals(meterName, pattern, StringComparison.Ordinal));

    /// <summary>Whether the instrument is exported: its meter is, and the instrument is among the meter's chosen ones
    /// (<see cref="ExportedInstruments"/>) when the meter has a choice.</summary>
    public static bool IsExported(Instrument instrument) =>
        IsExported(instrument.Meter.Name)
        && (!ExportedInstruments.TryGetValue(instrument.Meter.Name, out var chosen) || chosen.Contains(Normalized(instrument.Name)));

    private static FrozenSet<string> Names(params string[] names) => names.ToFrozenSet(StringComparer.Ordinal);

    private static string Normalized(string instrumentName) => instrumentName.Replace('.', '_').Replace('-', '_');

    /// <summary><c>Telemetry:Dashboard</c> when set; otherwise on in Development only.</summary>
    public static bool DashboardEnabled(IConfiguration configuration, IHostEnvironment environment) =>
        configuration.GetValue<bool?>("Telemetry:Dashboard") ?? environment.IsDevelopment();

    private static void ConfigureOtlp(OtlpExporterOptions otlp, string? endpoint, string? protocol)
    {
        if (!string.IsNullOrWhiteSpace(protocol))
        {
            otlp.Protocol = protocol.Trim().ToLowerInvariant() switch
            {
                "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
                _ => throw new InvalidOperationException($"OpenTelemetry:OtlpProtocol must be 'grpc' or 'http/protobuf', not '{protocol}'."),
            };
        }

        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"OpenTelemetry:OtlpEndpoint must be an absolute http(s) URL, not '{endpoint}'.");
        }

        // Set in code, an http/protobuf endpoint is the signal's full URL: the collector's base address gets the
        // standard path, as the OTEL_EXPORTER_OTLP_ENDPOINT variable would.
        if (otlp.Protocol == OtlpExportProtocol.HttpProtobuf && uri.AbsolutePath is "" or "/")
        {
            uri = new Uri(uri, "v1/metrics");
        }

        otlp.Endpoint = uri;
    }
}

/// <summary>
/// The Prometheus registry of this host and the adapters that fill it from <see cref="System.Diagnostics.Metrics"/>.
/// A registry of its own rather than prometheus-net's global one, and only the meters of this host (those its
/// <see cref="IMeterFactory"/> created, and process-wide ones such as the runtime's): several hosts in one process,
/// as in tests, do not mix their figures.
/// </summary>
/// <remarks>
/// prometheus-net publishes every .NET instrument as a Prometheus gauge or histogram (a .NET counter becomes a gauge
/// that only grows), and drops a label combination that has not been updated for a while. Two adapters, because the
/// right "while" differs: counters and histograms are kept a day (their label sets are bounded: queues × channels,
/// routes), so a quiet queue's counters do not vanish and restart from zero after prometheus-net's default 5
/// minutes; observable gauges are re-read at every scrape, so a minute is enough, and a queue or a figure that is no
/// longer reported disappears from the scrape a minute later rather than repeating its last value for a day.
/// </remarks>
internal sealed class PrometheusExport : IHostedService, IDisposable
{
    private static readonly TimeSpan RecordedExpireAfter = TimeSpan.FromDays(1);
    private static readonly TimeSpan ObservedExpireAfter = TimeSpan.FromMinutes(1);

    private readonly IDisposable _recorded;
    private readonly IDisposable _observed;

    public PrometheusExport(IMeterFactory meterFactory)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();

        // The process metrics Prometheus users expect (process_cpu_seconds_total, process_start_time_seconds, ...).
        // prometheus-net's EventCounter adapter is not started: the System.Runtime meter publishes the same
        // runtime figures through the meter adapter.
        DotNetStats.Register(Registry);
        _recorded = Listen(meterFactory, observable: false, RecordedExpireAfter);
        _observed = Listen(meterFactory, observable: true, ObservedExpireAfter);
    }

    public CollectorRegistry Registry { get; }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _observed.Dispose();
        _recorded.Dispose();
    }

    private IDisposable Listen(IMeterFactory meterFactory, bool observable, TimeSpan expireAfter) =>
        MeterAdapter.StartListening(new MeterAdapterOptions
        {
            // Both: MetricFactory defaults to the global factory, which would ignore Registry.
            Registry = Registry,
            MetricFactory = Prometheus.Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = instrument =>
                instrument.IsObservable == observable
                && (instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, meterFactory))
                && RoutingTelemetry.IsExported(instrument),
            MetricsExpireAfter = expireAfter,
            ResolveHistogramBuckets = Buckets,
        });

    /// <summary>The buckets the instrument advises (ASP.NET Core's request duration, the speed of answer), else
    /// prometheus-net's default.</summary>
    private static double[] Buckets(Instrument instrument) => instrument switch
    {
        Instrument<double> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds],
        Instrument<long> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(b => (double)b)],
        Instrument<int> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(b => (double)b)],
        _ => MeterAdapterOptions.DefaultHistogramBuckets,
    };
}
