using RoutingCluster.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace RoutingCluster.Persistence.Tests.Infrastructure;

/// <summary>
/// The suite's PostgreSQL server, shared by every test class (<c>IClassFixture&lt;PostgresServer&gt;</c>):
/// the connection string in <c>ROUTING_TEST_PG</c> when it is set (its role must be allowed to create
/// schemas), otherwise a throwaway server started with <c>scripts/pg.sh start</c> for as long as any test
/// class needs it and removed with <c>scripts/pg.sh stop</c> afterwards. Each test works in a schema of
/// its own (<see cref="CreateSchemaAsync"/>), so classes can run in parallel on the one server.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string EnvironmentVariable = "ROUTING_TEST_PG";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Instance? shared;
    private static int users;
    private static int schemaCounter;

    private Instance? instance;

    /// <summary>A connection string for the server's <c>routing</c> database (or the one given in the environment).</summary>
    public string ConnectionString => (instance ?? throw new InvalidOperationException("The server is not started.")).ConnectionString;

    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            shared ??= await Instance.StartAsync();
            users++;
            instance = shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (instance is not null && --users == 0)
            {
                shared = null;
                await instance.StopAsync();
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// A fresh, empty schema and a connection string whose search path is that schema: everything the
    /// migrations and the providers create or read lands there.
    /// </summary>
    public async Task<string> CreateSchemaAsync(string purpose)
    {
        var name = string.Create(CultureInfo.InvariantCulture,
            $"t_{purpose.ToLowerInvariant()}_{Interlocked.Increment(ref schemaCounter)}_{Guid.NewGuid().ToString("N")[..8]}");
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = name }.ConnectionString;
    }

    private sealed class Instance(string connectionString, string? directory)
    {
        public string ConnectionString { get; } = connectionString;

        public static async Task<Instance> StartAsync()
        {
            if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given)
            {
                return new Instance(given, directory: null);
            }

            var directory = Path.Combine(Path.GetTempPath(), $"routing-pg-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
            string output;
            try
            {
                output = await RunScriptAsync("start", directory);
            }
            catch
            {
                await TryRunScriptAsync("stop", directory);   // a half-started server must not outlive the run
                throw;
            }

            var lastLine = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            if (lastLine is null || !lastLine.StartsWith("Host=", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"scripts/pg.sh start printed no connection string:\n{output}");
            }

            return new Instance(lastLine, directory);
        }

        public async Task StopAsync()
        {
            NpgsqlConnection.ClearAllPools();
            if (directory is not null)
            {
                await RunScriptAsync("stop", directory);
            }
        }

        private static async Task TryRunScriptAsync(string verb, string directory)
        {
            try
            {
                await RunScriptAsync(verb, directory);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
            {
                // Best effort: the original failure is the one worth reporting.
            }
        }

        private static Task<string> RunScriptAsync(string verb, string directory) => TestProcess.PgScriptAsync(verb, directory);
    }
}
