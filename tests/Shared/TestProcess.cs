using System.Diagnostics;

namespace RoutingCluster.Tests.Shared;

/// <summary>Runs the repository's scripts and server tools from tests (compiled into each test project that needs it).</summary>
internal static class TestProcess
{
    /// <summary>Long enough for <c>apt-get install postgresql</c> on a fresh machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs a program to the end and returns its standard output; a non-zero exit or a timeout throws with its error output.</summary>
    public static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, TimeSpan? timeout = null)
    {
        var run = await RunToEndAsync(program, arguments, timeout);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {run.ExitCode}:\n{run.Error}{run.Output}");
        }

        return run.Output;
    }

    /// <summary>Runs a program to the end, whatever its exit code, and returns that code with its standard output and
    /// error output; a timeout kills it (with its children) and throws with its error output.</summary>
    public static async Task<ProcessRun> RunToEndAsync(string program, IReadOnlyList<string> arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? DefaultTimeout;
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {limit}:\n{await stderr}");
        }

        return new ProcessRun(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>scripts/pg.sh VERB DIR</c>.</summary>
    public static Task<string> PgScriptAsync(string verb, string directory) =>
        RunAsync("bash", [Path.Combine(RepositoryRoot(), "scripts", "pg.sh"), verb, directory]);

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RoutingCluster.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No RoutingCluster.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>How a program ended: its exit code, standard output and error output.</summary>
internal sealed record ProcessRun(int ExitCode, string Output, string Error);
