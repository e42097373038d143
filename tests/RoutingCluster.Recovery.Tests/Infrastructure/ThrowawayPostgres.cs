using RoutingCluster.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of one test class's own (<c>IClassFixture&lt;ThrowawayPostgres&gt;</c>), started with
/// <c>scripts/pg.sh start</c> and removed with <c>scripts/pg.sh stop</c>. Being the class's own, it can be stopped
/// and started again mid-test (<see cref="StopServerAsync"/>, <see cref="StartServerAsync"/>) without disturbing
/// any other class. Each test works in a schema of its own (<see cref="CreateSchemaAsync"/>).
/// </summary>
public sealed class ThrowawayPostgres : IAsyncLifetime
{
    private static int schemaCounter;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"routing-pg-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
    private string? _connectionString;
    private int _port;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The server is not started.");

    public async Task InitializeAsync()
    {
        string output;
        try
        {
            output = await RunAsync("bash", [Path.Combine(RepositoryRoot(), "scripts", "pg.sh"), "start", _directory]);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _connectionString = lines.LastOrDefault(line => line.StartsWith("Host=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"scripts/pg.sh start printed no connection string:\n{output}");
        _port = int.Parse(lines.Single(line => line.StartsWith("PGPORT=", StringComparison.Ordinal))["PGPORT=".Length..], CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunAsync("bash", [Path.Combine(RepositoryRoot(), "scripts", "pg.sh"), "stop", _directory]);
    }

    /// <summary>A fresh schema and a connection string whose search path is that schema.</summary>
    public async Task<string> CreateSchemaAsync(string purpose)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"t_{purpose}_{Interlocked.Increment(ref schemaCounter)}");

        // An earlier test of the class may have restarted the server: its pooled connections are dead.
        NpgsqlConnection.ClearAllPools();
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = name }.ConnectionString;
    }

    /// <summary>Stops the server (fast shutdown: sessions are disconnected, data stays).</summary>
    public Task StopServerAsync() => AsOwnerAsync(PgCtl(), ["-D", DataDirectory, "-m", "fast", "-w", "-t", "30", "stop"]);

    /// <summary>Starts the stopped server again, on the same port with the options scripts/pg.sh gave it.</summary>
    public Task StartServerAsync() => AsOwnerAsync(PgCtl(),
    [
        "-D", DataDirectory, "-l", Path.Combine(_directory, "postgres.log"), "-w", "-t", "60",
        "-o", string.Create(CultureInfo.InvariantCulture,
            $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"),
        "start",
    ]);

    private string DataDirectory => Path.Combine(_directory, "data");

    private static string PgCtl() =>
        Directory.GetDirectories("/usr/lib/postgresql")
            .Select(version => Path.Combine(version, "bin", "pg_ctl"))
            .Where(File.Exists)
            .OrderBy(path => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(path))), out var v) ? v : new Version(0, 0))
            .LastOrDefault() ?? throw new InvalidOperationException("No /usr/lib/postgresql/*/bin/pg_ctl.");

    /// <summary>Runs a server command as the server's owner: <c>postgres</c> when the tests run as root (as pg.sh does).</summary>
    private static Task AsOwnerAsync(string program, IReadOnlyList<string> arguments) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments])
            : RunAsync(program, arguments);

    private static Task<string> RunAsync(string program, IReadOnlyList<string> arguments) => TestProcess.RunAsync(program, arguments);

    private static string RepositoryRoot() => TestProcess.RepositoryRoot();
}
