using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Web.Tests.Publish;

/// <summary>
/// The silo host as an operator deploys it: <c>dotnet publish</c> once per test run (of the build the tests run
/// against, so <c>--no-build</c>) into a temporary folder, started from there as separate processes
/// (<see cref="StartAsync"/>), and one headless Chromium for the pages.
/// </summary>
public sealed class PublishedHost : IAsyncLifetime
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private IPlaywright? _playwright;

    /// <summary>The publish folder (deleted at the end).</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"rc-publish-{Guid.NewGuid():N}"[..20]);

    public string Dll => Path.Combine(Folder, "RoutingCluster.SiloHost.dll");

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var project = Path.Combine(TestProcess.RepositoryRoot(), "silo-host", "RoutingCluster.SiloHost", "RoutingCluster.SiloHost.csproj");
        await TestProcess.RunAsync("dotnet", ["publish", project, "-c", Configuration, "--no-build", "-nologo", "-v", "q", "-o", Folder]);
        _playwright = await Playwright.CreateAsync();
        Browser = await DesktopHost.LaunchChromiumAsync(_playwright);
    }

    /// <summary>
    /// Starts <c>dotnet {publish}/RoutingCluster.SiloHost.dll {arguments}</c> in <paramref name="workingDirectory"/>
    /// (Production, no content root configured) and waits until <paramref name="baseAddress"/> answers /health/ready.
    /// </summary>
    public async Task<HostProcess> StartAsync(string workingDirectory, Uri baseAddress, params string[] arguments)
    {
        var host = new HostProcess(Dll, workingDirectory, arguments);
        try
        {
            await host.WaitReadyAsync(baseAddress, TimeSpan.FromSeconds(90));
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Command-line switches for free loopback ports: HTTP, silo, gateway; and the HTTP address.</summary>
    public static (Uri BaseAddress, string[] Arguments) FreePortArguments()
    {
        var ports = FreePorts.Take(3);
        var baseAddress = new Uri($"http://127.0.0.1:{ports[0]}/");
        return (baseAddress,
        [
            "--urls", baseAddress.ToString().TrimEnd('/'),
            $"--Orleans:SiloPort={ports[1].ToString(CultureInfo.InvariantCulture)}",
            $"--Orleans:GatewayPort={ports[2].ToString(CultureInfo.InvariantCulture)}",
        ]);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary folder.
        }
    }
}

/// <summary>One published host process; what it writes (stdout and stderr) is kept for assertions and failure messages.</summary>
public sealed class HostProcess : IDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly ConcurrentQueue<string> _log = new();
    private readonly Process _process;

    public HostProcess(string dll, string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in TestTokens.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var name in new[] { "ASPNETCORE_CONTENTROOT", "DOTNET_CONTENTROOT", "ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS" })
        {
            start.Environment.Remove(name);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What the process wrote, oldest first.</summary>
    public IReadOnlyCollection<string> Log => _log;

    public string Tail() => string.Join('\n', _log.TakeLast(60));

    public async Task WaitReadyAsync(Uri baseAddress, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The published host exited ({_process.ExitCode}) before it was ready:\n{Tail()}");
            }

            try
            {
                using var response = await Probe.GetAsync(new Uri(baseAddress, "health/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The published host did not answer {baseAddress}health/ready within {within}:\n{Tail()}");
            }

            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 400)
        {
            _log.TryDequeue(out _);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PublishedHostCollection : ICollectionFixture<PublishedHost>
{
    public const string Name = "published host";
}
