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

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stderr}{await stdout}");
        }

        return await stdout;
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
