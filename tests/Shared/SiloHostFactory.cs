using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.Tests.Shared;

/// <summary>How a <see cref="SiloHostFactory"/> runs the silo host.</summary>
public sealed record SiloHostOptions
{
    /// <summary>Configuration (key, value) applied after the host's own, for example <c>Storage:Provider</c>.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>The hosting environment; null keeps the default (Development).</summary>
    public string? Environment { get; init; }

    /// <summary>The routing on a fake clock (<see cref="SiloHostFactory.Time"/>); Orleans keeps the real one.</summary>
    public bool VirtualTime { get; init; }

    /// <summary>Real Kestrel on a free loopback port (<see cref="SiloHostFactory.BaseAddress"/>), started at once: for
    /// clients that need real sockets (a browser, a SignalR connection, the typed client, the load driver).</summary>
    public bool Kestrel { get; init; }

    /// <summary>The Orleans silo-to-silo port; null: a free port. Two hosts on the same ports and database are the
    /// same silo restarted in place.</summary>
    public int? SiloPort { get; init; }

    /// <summary>The Orleans gateway port; null: a free port.</summary>
    public int? GatewayPort { get; init; }

    /// <summary>The Serilog minimum level (<c>Serilog:MinimumLevel:Default</c>).</summary>
    public string LogLevel { get; init; } = "Warning";

    /// <summary>Whether <see cref="LogLevel"/> also overrides the Microsoft, Orleans and Polly sources.</summary>
    public bool LogLevelForEverySource { get; init; }

    /// <summary>Unhandled exceptions that reach the HTTP layer are recorded in <see cref="SiloHostFactory.Failures"/>
    /// (and then handled as usual).</summary>
    public bool RecordFailures { get; init; }

    /// <summary>Test services, registered after the host's own (so they replace them where a single one is asked for).</summary>
    public Action<IServiceCollection>? Services { get; init; }
}

/// <summary>
/// The real silo host (<c>Program</c>: HTTP API, agent hub, pages, Orleans silo; memory storage unless the settings
/// choose another profile) in this process. Silo and gateway ports are free ports picked at start, so it runs beside
/// other hosts and a host started by hand. See <see cref="SiloHostOptions"/> for virtual time, configuration and real
/// Kestrel.
/// </summary>
/// <remarks><c>global::Program</c> is the silo host's entry point (the load driver has a <c>Program</c> of its own).</remarks>
public class SiloHostFactory : WebApplicationFactory<global::Program>
{
    /// <summary>Where routing time starts on a virtual-time host.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider? _time;
    private readonly Uri? _baseAddress;

    /// <summary>The host with memory storage on the real clock, served in memory (<see cref="WebApplicationFactory{T}.CreateClient()"/>).</summary>
    public SiloHostFactory()
        : this(new SiloHostOptions())
    {
    }

    /// <summary>The host as <paramref name="options"/> say (see <see cref="Create"/>).</summary>
    protected SiloHostFactory(SiloHostOptions options)
    {
        Options = options;
        var ports = FreePorts.Take(2);
        SiloPort = options.SiloPort ?? ports[0];
        GatewayPort = options.GatewayPort ?? ports[1];
        _time = options.VirtualTime ? new FakeTimeProvider(Start) : null;
        if (!options.Kestrel)
        {
            return;
        }

        try
        {
            UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            _baseAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public SiloHostOptions Options { get; }

    /// <summary>A host run as <paramref name="options"/> say. (A fixture type may have one public constructor only:
    /// the one without options.)</summary>
    public static SiloHostFactory Create(SiloHostOptions options) => new(options);

    /// <summary>An in-memory client whose requests carry a token with every role (<see cref="TestTokens.Handler"/>): as
    /// <see cref="WebApplicationFactory{T}.CreateClient()"/> otherwise (redirects followed, cookies kept).</summary>
    public new HttpClient CreateClient() =>
        CreateDefaultClient(ClientOptions.BaseAddress, new RedirectHandler(), new CookieContainerHandler(), TestTokens.Handler());

    /// <summary>An in-memory client that sends no token (for what anonymous callers get).</summary>
    public HttpClient CreateAnonymousClient() => base.CreateClient();

    /// <summary>The Orleans silo-to-silo port.</summary>
    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>Where the host listens on Kestrel: <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress => _baseAddress ?? throw new InvalidOperationException("The host is not on Kestrel (SiloHostOptions.Kestrel).");

    /// <summary>The unhandled exceptions the HTTP layer met (request, exception), when <see cref="SiloHostOptions.RecordFailures"/>.</summary>
    public ConcurrentQueue<(string Path, Exception Exception)> Failures { get; } = new();

    /// <summary>The routing clock of a virtual-time host.</summary>
    public FakeTimeProvider Time => _time ?? throw new InvalidOperationException("The host is on the real clock (SiloHostOptions.VirtualTime).");

    /// <summary>Moves routing time to <paramref name="secondsAfterStart"/> and waits for the work it triggers.</summary>
    public async Task At(double secondsAfterStart)
    {
        var target = Start + TimeSpan.FromSeconds(secondsAfterStart);
        Assert.True(target >= Time.GetUtcNow(), "time only moves forward");
        while (Time.GetUtcNow() < target)
        {
            var step = target - Time.GetUtcNow();
            Time.Advance(step < TimeSpan.FromSeconds(1) ? step : TimeSpan.FromSeconds(1));
            await Settle();
        }

        await Settle();
    }

    /// <summary>Waits until no routing work runs, then hands every count to the statistics grains.</summary>
    public async Task Settle()
    {
        var tracker = Services.GetRequiredService<WorkTracker>();
        for (var quiet = 0; quiet < 3;)
        {
            await tracker.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await Services.GetRequiredService<KpiCollector>().FlushAsync();
            await Task.Delay(5);
            quiet = tracker.InFlight == 0 ? quiet + 1 : 0;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Orleans:SiloPort", SiloPort.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", GatewayPort.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Serilog:MinimumLevel:Default", Options.LogLevel);
        foreach (var (key, value) in TestTokens.Settings)
        {
            builder.UseSetting(key, value);
        }

        if (Options.LogLevelForEverySource)
        {
            foreach (var source in new[] { "Microsoft", "Orleans", "Microsoft.Hosting.Lifetime", "Polly" })
            {
                builder.UseSetting($"Serilog:MinimumLevel:Override:{source}", Options.LogLevel);
            }
        }

        foreach (var (key, value) in Options.Settings)
        {
            builder.UseSetting(key, value);
        }

        if (Options.Environment is { } environment)
        {
            builder.UseEnvironment(environment);
        }

        builder.ConfigureTestServices(services =>
        {
            if (_time is { } time)
            {
                services.RemoveAll<RoutingClock>();
                services.AddSingleton(new RoutingClock(time));
            }

            if (Options.RecordFailures)
            {
                services.AddSingleton<IExceptionHandler>(new FailureRecorder(Failures));
            }

            Options.Services?.Invoke(services);
        });
    }

    /// <summary>Notes the exception and leaves it to the host's own handling (status code, problem details).</summary>
    private sealed class FailureRecorder(ConcurrentQueue<(string, Exception)> failures) : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            failures.Enqueue(($"{httpContext.Request.Method} {httpContext.Request.Path}", exception));
            return ValueTask.FromResult(false);
        }
    }
}

/// <summary>The silo host on real Kestrel, as a fixture type (xUnit makes fixtures with no arguments).</summary>
public sealed class KestrelSiloHostFactory() : SiloHostFactory(new SiloHostOptions { Kestrel = true });
