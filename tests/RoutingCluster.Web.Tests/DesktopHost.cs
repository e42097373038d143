using Microsoft.Playwright;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Web.Tests;

/// <summary>
/// One silo host (HTTP API, SignalR hub, agent desktop pages, Orleans silo with memory storage) served by Kestrel on
/// a free loopback port, so that a real browser can reach it, and one headless Debian Chromium (driven by Playwright,
/// no browser download) for every test in the collection. Chromium missing is a failure with a clear message, not a
/// skip.
/// </summary>
public sealed class DesktopHost : IAsyncLifetime
{
    /// <summary>Debian's Chromium, which test.sh installs (<c>apt-get install -y chromium</c>).</summary>
    public const string ChromiumPath = "/usr/lib/chromium/chromium";

    /// <summary>
    /// No network here except package registries: keep Chromium from calling Google hosts. Playwright starts
    /// every launch with a fresh temporary <c>--user-data-dir</c> of its own (it refuses one in the arguments).
    /// </summary>
    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly SiloHostFactory _factory = SiloHostFactory.Create(new SiloHostOptions { Kestrel = true });
    private IPlaywright? _playwright;
    private readonly SemaphoreSlim _browserLock = new(1, 1);
    private IBrowser? _browser;

    /// <summary>The host's address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>What the tests do over HTTP beside the page: set up queues and agents, create sessions.</summary>
    public HostApi Api { get; private set; } = null!;

    /// <summary>
    /// A client of the Kestrel endpoint that does not follow redirects, to check them (the factory's own
    /// <c>AllowAutoRedirect = false</c> is not honoured on Kestrel: its socket handler still follows them).
    /// </summary>
    public HttpClient CreateClientWithoutRedirects() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress };

    /// <summary><c>&lt;repo&gt;/.test-output/screenshots</c> (gitignored; test.sh recreates .test-output).</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(RepositoryRoot(), ".test-output", "screenshots");

    public Task InitializeAsync()
    {
        BaseAddress = _factory.BaseAddress;
        Assert.Equal("127.0.0.1", BaseAddress.Host);
        Http = _factory.CreateClient();
        Api = new HostApi(Http);
        Directory.CreateDirectory(ScreenshotFolder);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Headless Chromium, launched by the first browser test. Chromium missing fails every browser test with a
    /// clear message (never a skip); the HTTP-only tests still run.
    /// </summary>
    public async Task<IBrowser> BrowserAsync()
    {
        await _browserLock.WaitAsync();
        try
        {
            if (_browser is not null)
            {
                return _browser;
            }

            _playwright ??= await Playwright.CreateAsync();
            _browser = await LaunchChromiumAsync(_playwright);
            return _browser;
        }
        finally
        {
            _browserLock.Release();
        }
    }

    /// <summary>Headless Debian Chromium; missing, it fails with a message that says how to install it.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium is not installed at {ChromiumPath}, so the agent desktop cannot be tested in a browser. " +
                "test.sh installs it with 'apt-get update && apt-get install -y chromium' (see .test-output/chromium-install.log " +
                "for why that failed); install it by hand and run again.");
        }

        return playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        Http?.Dispose();
        _browserLock.Dispose();
        await _factory.DisposeAsync();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoutingCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"RoutingCluster.sln not found above {AppContext.BaseDirectory}.");
    }
}

[CollectionDefinition(Name)]
public sealed class DesktopHostCollection : ICollectionFixture<DesktopHost>
{
    public const string Name = "desktop host";
}
