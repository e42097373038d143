using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Model;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>
/// <c>/metrics</c> (Prometheus text) and <c>/dashboard</c> (Orleans Dashboard) on the real host. The routing
/// counters are recorded by calling <see cref="RoutingMetrics"/> directly, on a queue id that no HTTP traffic uses,
/// so the values asserted stay exact whatever the grains themselves count.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class TelemetryTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task Metrics_AfterAnAnsweredSession_ExportsTheRoutingCounters_WithQueueAndChannelLabels()
    {
        await AnswerASessionOverHttp();
        var queue = HostApi.NewId("q");
        var metrics = host.Services.GetRequiredService<RoutingMetrics>();
        metrics.SessionOffered(queue, Channel.Voice);
        metrics.SessionOffered(queue, Channel.Voice);
        metrics.SessionOffered(queue, Channel.FiveG);
        metrics.SessionAnswered(queue, Channel.Voice, TimeSpan.FromSeconds(12.5));
        metrics.SessionAbandoned(queue, Channel.Chat);
        metrics.SessionOverflowed(queue, Channel.Voice);
        metrics.SessionRefused(queue, Channel.Email);

        var scrape = await Scrape(_api);

        Assert.Equal(2, scrape.Value("routingcluster_routing_sessions_offered", ("channel", "voice"), ("queue", queue)));
        Assert.Equal(1, scrape.Value("routingcluster_routing_sessions_offered", ("channel", "5g"), ("queue", queue)));
        Assert.Equal(1, scrape.Value("routingcluster_routing_sessions_answered", ("channel", "voice"), ("queue", queue)));
        Assert.Equal(1, scrape.Value("routingcluster_routing_sessions_abandoned", ("channel", "chat"), ("queue", queue)));
        Assert.Equal(1, scrape.Value("routingcluster_routing_sessions_overflowed", ("channel", "voice"), ("queue", queue)));
        Assert.Equal(1, scrape.Value("routingcluster_routing_sessions_refused", ("channel", "email"), ("queue", queue)));
        Assert.Equal("gauge", scrape.Type("routingcluster_routing_sessions_offered"));
    }

    [Fact]
    public async Task Metrics_SpeedOfAnswer_IsAHistogramInSeconds_WithBucketsAroundTheServiceLevelThreshold()
    {
        var queue = HostApi.NewId("q");
        var metrics = host.Services.GetRequiredService<RoutingMetrics>();
        metrics.SessionAnswered(queue, Channel.Chat, TimeSpan.FromSeconds(12.5));
        metrics.SessionAnswered(queue, Channel.Voice, TimeSpan.FromSeconds(25));

        var scrape = await Scrape(_api);

        const string name = "routingcluster_routing_session_speed_of_answer";
        Assert.Equal("histogram", scrape.Type(name));
        Assert.Equal(0, scrape.Value(name + "_bucket", ("le", "10"), ("queue", queue)));
        Assert.Equal(1, scrape.Value(name + "_bucket", ("le", "15"), ("queue", queue)));
        Assert.Equal(1, scrape.Value(name + "_bucket", ("le", "20"), ("queue", queue)));
        Assert.Equal(2, scrape.Value(name + "_bucket", ("le", "30"), ("queue", queue)));
        Assert.Equal(2, scrape.Value(name + "_bucket", ("le", "+Inf"), ("queue", queue)));
        Assert.Equal(2, scrape.Value(name + "_count", ("queue", queue)));
        Assert.Equal(37.5, scrape.Value(name + "_sum", ("queue", queue)));
    }

    [Fact]
    public async Task Metrics_ExportOrleansAspNetCoreRuntimeAndProcessMetrics()
    {
        await AnswerASessionOverHttp();

        var scrape = await Scrape(_api);

        // Orleans: activations per grain type (this test activated a queue, an agent and a session grain).
        Assert.True(scrape.Value("microsoft_orleans_orleans_grains", ("grain_type", "session")) >= 1, scrape.Sample("microsoft_orleans_orleans_grains"));
        // ASP.NET Core: the request duration histogram, per route.
        Assert.Equal("histogram", scrape.Type("microsoft_aspnetcore_hosting_http_server_request_duration"));
        Assert.True(
            scrape.Value(
                "microsoft_aspnetcore_hosting_http_server_request_duration_count",
                ("http_request_method", "PUT"), ("http_response_status_code", "200"), ("http_route", "/v1/queues/{id}"), ("network_protocol_version", "1.1"), ("url_scheme", "http")) >= 1,
            scrape.Sample("microsoft_aspnetcore_hosting_http_server_request_duration_count"));
        // The runtime's meter and prometheus-net's process metrics.
        Assert.Contains("system_runtime_dotnet_gc_collections", scrape.Names);
        Assert.Contains("process_cpu_seconds_total", scrape.Names);
    }

    [Fact]
    public async Task Metrics_ExportTheChosenInstrumentsOfTheFrameworkMeters_AndLeaveTheRestOut()
    {
        await AnswerASessionOverHttp();

        var names = (await Scrape(_api)).Names.ToHashSet(StringComparer.Ordinal);

        // What dashboards, alerts and the load driver read is there ...
        Assert.Contains("microsoft_orleans_orleans_app_requests_latency_count", names);
        Assert.Contains("microsoft_orleans_orleans_messaging_processing_dispatcher_received", names);
        Assert.Contains("microsoft_orleans_orleans_storage_write_latency_count", names);
        Assert.Contains("microsoft_orleans_orleans_catalog_activation_created", names);
        Assert.Contains("microsoft_aspnetcore_hosting_http_server_request_duration_count", names);
        Assert.Contains("system_runtime_dotnet_thread_pool_queue_length", names);

        // ... and the framework's other instruments are not (Orleans' directory and ring, header sizes, memory pools).
        Assert.DoesNotContain(names, n => n.StartsWith("microsoft_orleans_orleans_directory_", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("microsoft_orleans_orleans_consistent_ring_", StringComparison.Ordinal));
        Assert.DoesNotContain("microsoft_orleans_orleans_messaging_sent_header_size", names);
        Assert.DoesNotContain(names, n => n.StartsWith("microsoft_aspnetcore_memorypool_", StringComparison.Ordinal));
        Assert.DoesNotContain("system_runtime_dotnet_jit_compiled_methods", names);
    }

    [Fact]
    public async Task Metrics_ExportOrleansSentMessageSizes_WhoseCountIsTheMessagesSentToOtherSilos()
    {
        // One silo sends nothing over the network, so a message is recorded here into Orleans' own instrument, found
        // among the host's meters, with the tags a silo connection gives it (Prometheus shows their names lowercased).
        var sent = OrleansInstrument(host.Services, "orleans-messaging-sent-messages-size");
        Assert.True(RoutingCluster.SiloHost.Hosting.RoutingTelemetry.IsExported(sent));
        var silo = HostApi.NewId("S127.0.0.1:11299:");
        var before = (await Scrape(_api)).ValueOrNull(SentCount, ("connectiondirection", "SiloToSilo"), ("messagedirection", "Request"), ("silo", silo)) ?? 0;

        ((Histogram<int>)sent).Record(180, new("ConnectionDirection", "SiloToSilo"), new("MessageDirection", "Request"), new("silo", silo));
        ((Histogram<int>)sent).Record(220, new("ConnectionDirection", "SiloToSilo"), new("MessageDirection", "Request"), new("silo", silo));

        var scrape = await Scrape(_api);
        Assert.Equal("histogram", scrape.Type("microsoft_orleans_orleans_messaging_sent_messages_size"));
        Assert.Equal(before + 2, scrape.Value(SentCount, ("connectiondirection", "SiloToSilo"), ("messagedirection", "Request"), ("silo", silo)));
    }

    [Fact]
    public async Task Dashboard_IsServed_AsHtml()
    {
        var reply = await _api.Get("/dashboard");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("text/html", reply.ContentType);
        Assert.Contains("<html", reply.Body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Dashboard_OutsideDevelopment_IsNotServed_UnlessAskedFor()
    {
        await using var production = SiloHostFactory.Create(new SiloHostOptions { Environment = "Production" });

        (await new HostApi(production.CreateClient()).Get("/dashboard")).Problem(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("Development", null, true)]
    [InlineData("Production", null, false)]
    [InlineData("Staging", null, false)]
    [InlineData("Production", "true", true)]
    [InlineData("Development", "false", false)]
    public void Dashboard_IsOnInDevelopment_AndElsewhereOnlyWhenAskedFor(string environment, string? setting, bool expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(setting is null ? [] : [new KeyValuePair<string, string?>("Telemetry:Dashboard", setting)])
            .Build();
        var hosting = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment };

        Assert.Equal(expected, RoutingCluster.SiloHost.Hosting.RoutingTelemetry.DashboardEnabled(configuration, hosting));
    }

    [Fact]
    public async Task MetricsAndDashboard_AreNotInTheApiDescription()
    {
        var document = (await _api.Get("/openapi/v1.json")).Ok().ToJsonString();

        Assert.DoesNotContain("/metrics", document, StringComparison.Ordinal);
        Assert.DoesNotContain("/dashboard", document, StringComparison.Ordinal);
    }

    [Fact]
    public void Otlp_WithoutAnEndpoint_TheOpenTelemetrySdkIsNotAdded()
    {
        Assert.Null(host.Services.GetService<MeterProvider>());
    }

    [Theory]
    [InlineData("OpenTelemetry:OtlpEndpoint", "collector:4317", "OpenTelemetry:OtlpEndpoint must be an absolute http(s) URL")]
    [InlineData("OpenTelemetry:OtlpProtocol", "udp", "OpenTelemetry:OtlpProtocol must be 'grpc' or 'http/protobuf'")]
    public void Otlp_WithAnInvalidSetting_TheHostFailsToStart_NamingTheSetting(string key, string value, string message)
    {
        using var factory = SiloHostFactory.Create(new SiloHostOptions
        {
            Settings = new Dictionary<string, string> { ["OpenTelemetry:OtlpEndpoint"] = "http://127.0.0.1:4317", [key] = value },
        });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        Assert.Contains(message, string.Join(" | ", Messages(error)), StringComparison.Ordinal);
    }

    private const string SentCount = "microsoft_orleans_orleans_messaging_sent_messages_size_count";

    /// <summary>The instrument of the Orleans meter of this host named <paramref name="name"/> (as the host's export
    /// picks its meters: those of its meter factory, or process-wide ones).</summary>
    private static Instrument OrleansInstrument(IServiceProvider services, string name)
    {
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        Instrument? found = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "Microsoft.Orleans" && instrument.Name == name
                    && (instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, meterFactory)))
                {
                    found = instrument;
                }
            },
        };
        listener.Start();
        return found ?? throw new Xunit.Sdk.XunitException($"Orleans publishes no instrument {name} in this host");
    }

    /// <summary>Reads <c>/metrics</c>, checking that it is the Prometheus text format.</summary>
    internal static async Task<PrometheusScrape> Scrape(HostApi api)
    {
        using var response = await api.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        return PrometheusScrape.Parse(body);
    }

    /// <summary>A queue, an agent and a session over HTTP, the offer accepted: traffic for Orleans and ASP.NET Core.</summary>
    private async Task AnswerASessionOverHttp()
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);
        await _api.SetState(agent, "ready");
        var session = await _api.CreateSession(queue);
        await _api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Ok();
        Assert.Equal("connected", (await _api.Get($"/v1/sessions/{session}")).Ok().Str("state"));
    }

    private static IEnumerable<string> Messages(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            yield return e.Message;
        }
    }
}

/// <summary>
/// A host of its own with the dashboard turned off and an OTLP collector configured (a fake one in this process,
/// OTLP over HTTP), where the queue gauges get their source: the shared host's gauge source is left alone.
/// </summary>
public sealed class TelemetrySettingsTests(TelemetrySettingsTests.Fixture fixture) : IClassFixture<TelemetrySettingsTests.Fixture>
{
    private readonly HostApi _api = new(fixture.Host.CreateClient());

    [Fact]
    public async Task Dashboard_WhenTurnedOff_IsNotServed()
    {
        var reply = await _api.Get("/dashboard");

        reply.Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task QueueGauges_ExportTheSourcesFigures_PerQueue_LeavingOutNullFigures()
    {
        var (cards, loans) = (HostApi.NewId("q"), HostApi.NewId("q"));
        fixture.Host.Services.GetRequiredService<RoutingMetrics>().ObserveQueues(() =>
        [
            new QueueGauge(cards, Waiting: 7, LongestWaitSeconds: 42.5, ElderlyWaiting: 2, ServiceLevel: 0.8, AnswerRate: 0.95, AgentsReady: 3, AgentsBusy: 4),
            new QueueGauge(loans, Waiting: 0, LongestWaitSeconds: 0, ElderlyWaiting: 0, ServiceLevel: null, AnswerRate: null, AgentsReady: 1, AgentsBusy: 0),
        ]);

        var scrape = await TelemetryTests.Scrape(_api);

        var expected = new (string Gauge, double Cards, double? Loans)[]
        {
            ("waiting", 7, 0), ("longest_wait", 42.5, 0), ("elderly_waiting", 2, 0), ("service_level", 0.8, null),
            ("answer_rate", 0.95, null), ("agents_ready", 3, 1), ("agents_busy", 4, 0),
        };
        foreach (var (gauge, cardsValue, loansValue) in expected)
        {
            var name = "routingcluster_routing_queue_" + gauge;
            Assert.Equal("gauge", scrape.Type(name));
            Assert.Equal(cardsValue, scrape.Value(name, ("queue", cards)));
            Assert.Equal(loansValue, scrape.ValueOrNull(name, ("queue", loans)));
        }
    }

    [Fact]
    public async Task Otlp_WithAnEndpoint_PushesTheRoutingMetricsToTheCollector()
    {
        var queue = HostApi.NewId("q");
        fixture.Host.Services.GetRequiredService<RoutingMetrics>().SessionOffered(queue, Channel.Wechat);

        Assert.True(fixture.Host.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000), "the OTLP export did not complete");

        // OTLP/protobuf carries names and string attributes as UTF-8: look for them in the exported bytes.
        var exported = await fixture.Collector.Received(queue, TimeSpan.FromSeconds(10));
        Assert.Contains("routing.sessions.offered", exported, StringComparison.Ordinal);
        Assert.Contains("wechat", exported, StringComparison.Ordinal);
        Assert.Contains("/v1/metrics", fixture.Collector.Paths);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        public FakeOtlpCollector Collector { get; } = new();

        public SiloHostFactory Host { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Collector.StartAsync();

            // The collector's base address: the host adds the standard /v1/metrics path for http/protobuf.
            Host = SiloHostFactory.Create(new SiloHostOptions
            {
                Settings = new Dictionary<string, string>
                {
                    ["Telemetry:Dashboard"] = "false",
                    ["OpenTelemetry:OtlpEndpoint"] = Collector.Address.ToString(),
                    ["OpenTelemetry:OtlpProtocol"] = "http/protobuf",
                },
            });
            Host.CreateClient().Dispose();
        }

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            await Collector.DisposeAsync();
        }
    }
}


/// <summary>An OTLP/HTTP metrics receiver on a loopback port: keeps every request body it is sent.</summary>
public sealed class FakeOtlpCollector : IAsyncDisposable
{
    private readonly List<(string Path, byte[] Body)> _received = [];
    private WebApplication? _app;

    public Uri Address { get; private set; } = null!;

    public IReadOnlyList<string> Paths
    {
        get
        {
            lock (_received)
            {
                return [.. _received.Select(r => r.Path)];
            }
        }
    }

    public async Task StartAsync()
    {
        var port = FreePorts.One();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        _app = builder.Build();
        _app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            lock (_received)
            {
                _received.Add((context.Request.Path.Value ?? "", body.ToArray()));
            }

            // An empty ExportMetricsServiceResponse: zero bytes of protobuf.
            context.Response.ContentType = "application/x-protobuf";
            return Results.Ok();
        });
        await _app.StartAsync();
        Address = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The bytes of the first export that mentions <paramref name="text"/>, as Latin-1 text.</summary>
    public async Task<string> Received(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_received)
            {
                foreach (var (_, body) in _received)
                {
                    var decoded = Encoding.Latin1.GetString(body);
                    if (decoded.Contains(text, StringComparison.Ordinal))
                    {
                        return decoded;
                    }
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no OTLP export mentioned {text}; {_received.Count} received");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

}

/// <summary>A Prometheus text exposition (format 0.0.4) read into samples.</summary>
internal sealed partial class PrometheusScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];
    private readonly Dictionary<string, string> _types = [];
    private string _text = "";

    public IEnumerable<string> Names => _samples.Select(s => s.Name).Distinct();

    public static PrometheusScrape Parse(string text)
    {
        var scrape = new PrometheusScrape { _text = text };
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                scrape._types[parts[2]] = parts[3];
                continue;
            }

            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal));
            scrape._samples.Add((match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }

        return scrape;
    }

    public string? Type(string name) => _types.GetValueOrDefault(name);

    /// <summary>The value of the one sample named <paramref name="name"/> with exactly these labels.</summary>
    public double Value(string name, params (string Key, string Value)[] labels) =>
        ValueOrNull(name, labels) ?? throw new Xunit.Sdk.XunitException($"no sample {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} in:\n{Sample(name)}");

    public double? ValueOrNull(string name, params (string Key, string Value)[] labels)
    {
        var found = _samples
            .Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
            .Select(s => (double?)s.Value)
            .ToList();
        Assert.True(found.Count <= 1, $"{found.Count} samples {name} with the same labels");
        return found.SingleOrDefault();
    }

    /// <summary>The lines mentioning <paramref name="prefix"/>, for failure messages.</summary>
    public string Sample(string prefix) =>
        string.Join('\n', _text.Split('\n').Where(l => l.Contains(prefix, StringComparison.Ordinal)).Take(40));

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)",?""")]
    private static partial Regex LabelPair();
}
