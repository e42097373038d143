using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>
/// One silo host process (the built RoutingCluster.SiloHost.dll), postgres profile, on ports of its own that stay the
/// same across a restart, so that it can be killed (<see cref="Kill"/>, SIGKILL) or stopped as an orchestrator does
/// (<see cref="Terminate"/>, SIGTERM) without touching the test process. What it writes to stdout and stderr is kept
/// (the last 400 lines) for assertions and failure messages.
/// </summary>
public sealed class SiloProcess(int index, string connectionString, IReadOnlyDictionary<string, string>? extra = null) : IDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly ConcurrentQueue<string> _log = new();
    private readonly int[] _ports = FreePorts.Take(3);
    private Process? _process;
    private int _sessionsTakenBack;

    public Uri BaseAddress => new($"http://127.0.0.1:{_ports[0]}/");

    /// <summary>The Orleans silo-to-silo port.</summary>
    public int SiloPort => _ports[1];

    /// <summary>What the process wrote (stdout and stderr), oldest first.</summary>
    public IReadOnlyCollection<string> Log => _log;

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("Not started.");

    public void Start()
    {
        var root = TestProcess.RepositoryRoot();
        var project = Path.Combine(root, "silo-host", "RoutingCluster.SiloHost");
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var dll = Path.Combine(project, "bin", configuration, "net10.0", "RoutingCluster.SiloHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = project,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseAddress.ToString().TrimEnd('/'));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Storage__Provider"] = "postgres";
        start.Environment["Clustering__Provider"] = "postgres";
        start.Environment["ConnectionStrings__Routing"] = connectionString;
        start.Environment["Orleans__SiloPort"] = _ports[1].ToString(CultureInfo.InvariantCulture);
        start.Environment["Orleans__GatewayPort"] = _ports[2].ToString(CultureInfo.InvariantCulture);
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in TestTokens.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Warning";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Keep($"--- silo {index} started, pid {process.Id}");
    }

    public async Task WaitReadyAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"silo {index} exited before it was ready:\n{Tail()}");
            }

            try
            {
                using var response = await Probe.GetAsync(new Uri(BaseAddress, "health/ready"));
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
                throw new TimeoutException($"silo {index} not ready within {within}:\n{Tail()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no graceful shutdown, nothing written on the way out.</summary>
    public void Kill()
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
        Keep($"--- silo {index} killed");
        process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM, as an orchestrator or <c>scripts/cluster.sh</c> stops a silo; does not wait.</summary>
    public Task Terminate()
    {
        Keep($"--- silo {index} sent SIGTERM");
        return TestProcess.RunAsync("kill", ["-TERM", ProcessId.ToString(CultureInfo.InvariantCulture)]);
    }

    /// <summary>The exit code once the process has exited, or null if it still runs after <paramref name="within"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan within)
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        Keep($"--- silo {index} exited with code {process.ExitCode}");
        return process.ExitCode;
    }

    /// <summary>Sessions a queue on this silo found unheld and took back from the session records (its warning "did not
    /// hold session", counted over the whole run, restarts included).</summary>
    public int SessionsTakenBack => Volatile.Read(ref _sessionsTakenBack);

    public string Tail(int lines = 40) => $"silo {index} ({BaseAddress}):\n  " + string.Join("\n  ", _log.TakeLast(lines));

    public void Dispose()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
            _process = null;
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains("did not hold session", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _sessionsTakenBack);
        }

        _log.Enqueue(line);
        while (_log.Count > 400 && _log.TryDequeue(out _))
        {
        }
    }
}
