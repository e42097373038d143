using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// The host's counters read from its Prometheus scrape (<c>GET /metrics</c>): every sample's value summed per metric
/// name (over its label sets), histogram buckets left out. Read before and after a stretch of the run, on every
/// target, the difference says what the stretch cost the hosts.
/// </summary>
internal static partial class HostMetrics
{
    /// <summary>The figures the reports show, each a metric name (or a pattern of names, summed) of the scrape.</summary>
    public static IReadOnlyList<(string Name, string Pattern)> Figures { get; } =
    [
        ("grain calls", "^microsoft_orleans_orleans_app_requests_latency_count$"),
        ("messages to grains", "^microsoft_orleans_orleans_messaging_processing_dispatcher_received$"),
        // Messages a silo sent over the network (to another silo), counted once, by the sender: Orleans' histogram of
        // sent message sizes, whose count is summed over its labels (connection and message direction, remote silo).
        ("cross-silo messages", "^microsoft_orleans_orleans_messaging_sent_messages_size_count$"),
        ("grain storage writes", "^microsoft_orleans_orleans_storage_write_latency_count$"),
        ("grain storage reads", "^microsoft_orleans_orleans_storage_read_latency_count$"),
        ("activations", "^microsoft_orleans_orleans_catalog_activation_created$"),
        ("HTTP requests", "^microsoft_aspnetcore_hosting_http_server_request_duration_count$"),
        ("Npgsql commands", "^npgsql_db_client_(operation|commands?)_duration_count$"),
        ("host CPU s", "^process_cpu_seconds_total$"),
        ("GC count", "^system_runtime_dotnet_gc_collections$"),
    ];

    /// <summary>Sums per metric name of a Prometheus text exposition.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            if (!match.Success || match.Groups["name"].Value.EndsWith("_bucket", StringComparison.Ordinal)
                || !double.TryParse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                continue;
            }

            var name = match.Groups["name"].Value;
            sums[name] = sums.GetValueOrDefault(name) + value;
        }

        return sums;
    }

    /// <summary>The figures of <see cref="Figures"/> in <paramref name="after"/> minus <paramref name="before"/>
    /// (a figure that neither scrape has is left out).</summary>
    public static Dictionary<string, double> Delta(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var delta = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, pattern) in Figures)
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant);
            var keys = after.Keys.Concat(before.Keys).Where(k => regex.IsMatch(k)).Distinct(StringComparer.Ordinal).ToList();
            if (keys.Count > 0)
            {
                delta[name] = Math.Round(keys.Sum(k => after.GetValueOrDefault(k) - before.GetValueOrDefault(k)), 3);
            }
        }

        return delta;
    }

    /// <summary>Scrapes every target and sums per name over them; null when any target did not answer.</summary>
    public static async Task<Dictionary<string, double>?> ScrapeAsync(IReadOnlyList<Uri> targets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var total = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            try
            {
                // /metrics needs the sre role: the operator's token of that host.
                using var http = LoadTokens.Http(target, TimeSpan.FromSeconds(15));
                var text = await http.GetStringAsync(new Uri(target, "metrics"), cancellationToken);
                foreach (var (name, value) in Parse(text))
                {
                    total[name] = total.GetValueOrDefault(name) + value;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return null;
            }
        }

        return total;
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(?<value>\S+)(\s+\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex SampleLine();
}

/// <summary>Rows written to PostgreSQL, per table, from <c>pg_stat_user_tables</c> (<c>--pg-stats</c>).</summary>
internal sealed record PgSnapshot(IReadOnlyDictionary<string, (long Inserted, long Updated, long Deleted)> Tables, long Commits)
{
    /// <summary>Reads the counters of the database the connection string names.</summary>
    public static async Task<PgSnapshot> ReadAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var tables = new Dictionary<string, (long, long, long)>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            }
        }

        await using var commits = new NpgsqlCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", connection);
        return new PgSnapshot(tables, Convert.ToInt64(await commits.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture));
    }

    /// <summary>What was written between two snapshots.</summary>
    public static PgWrites Delta(PgSnapshot before, PgSnapshot after, int lifecycles)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var tables = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long inserted = 0, updated = 0, deleted = 0;
        foreach (var (table, now) in after.Tables)
        {
            var then = before.Tables.GetValueOrDefault(table);
            var (i, u, d) = (now.Inserted - then.Inserted, now.Updated - then.Updated, now.Deleted - then.Deleted);
            inserted += i;
            updated += u;
            deleted += d;
            if (i + u + d != 0)
            {
                tables[table] = i + u;
            }
        }

        return new PgWrites
        {
            Inserted = inserted,
            Updated = updated,
            Deleted = deleted,
            Commits = after.Commits - before.Commits,
            RowsWrittenByTable = tables,
            RowsWrittenPerLifecycle = lifecycles > 0 ? Math.Round((inserted + updated) / (double)lifecycles, 2) : null,
            CommitsPerLifecycle = lifecycles > 0 ? Math.Round((after.Commits - before.Commits) / (double)lifecycles, 2) : null,
        };
    }
}

/// <summary>Rows inserted and updated (n_tup_ins + n_tup_upd) in a stretch of the run, and per session lifecycle.</summary>
internal sealed record PgWrites
{
    public long Inserted { get; init; }

    public long Updated { get; init; }

    public long Deleted { get; init; }

    /// <summary>Committed transactions of the database (every connection, reads included).</summary>
    public long Commits { get; init; }

    /// <summary>Inserted + updated rows per table (tables with no change left out).</summary>
    public IReadOnlyDictionary<string, long> RowsWrittenByTable { get; init; } = new Dictionary<string, long>();

    public double? RowsWrittenPerLifecycle { get; init; }

    public double? CommitsPerLifecycle { get; init; }
}

/// <summary>The CPU of this machine (all processes) and of this driver, read from /proc/stat and the process.</summary>
internal readonly record struct CpuSnapshot(long BusyJiffies, long TotalJiffies, TimeSpan DriverCpu, long Timestamp, double LoadAverage1)
{
    public static CpuSnapshot Take()
    {
        long busy = 0, total = 0;
        double load = -1;
        try
        {
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            total = cpu.Sum();
            busy = total - cpu[3] - cpu[4];
            load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            // Not Linux: the machine's share is not reported.
        }

        return new CpuSnapshot(busy, total, Process.GetCurrentProcess().TotalProcessorTime, Stopwatch.GetTimestamp(), load);
    }

    /// <summary>Busy share of all the machine's cores between two snapshots (0-1; -1 when unknown).</summary>
    public static double MachineBusy(CpuSnapshot before, CpuSnapshot after) =>
        after.TotalJiffies > before.TotalJiffies
            ? Math.Round((after.BusyJiffies - before.BusyJiffies) / (double)(after.TotalJiffies - before.TotalJiffies), 3)
            : -1;
}

/// <summary>What a stretch of the run cost: the hosts' counters, the database's writes and the CPU, in total and
/// per completed session lifecycle.</summary>
internal sealed record ResourceFigures
{
    public required double WallSeconds { get; init; }

    /// <summary>Sessions completed in the stretch (the lifecycles the figures are divided by).</summary>
    public required int Lifecycles { get; init; }

    /// <summary>The hosts' counters of <see cref="HostMetrics.Figures"/>, summed over the targets (empty when a
    /// scrape failed or <c>--host-metrics off</c>).</summary>
    public IReadOnlyDictionary<string, double> Host { get; init; } = new Dictionary<string, double>();

    public IReadOnlyDictionary<string, double> HostPerLifecycle { get; init; } = new Dictionary<string, double>();

    public PgWrites? Pg { get; init; }

    public required double DriverCpuSeconds { get; init; }

    /// <summary>Busy share of all the machine's cores over the stretch, every process included (-1: unknown).</summary>
    public required double MachineBusyShare { get; init; }

    /// <summary>1-minute load average at the start of the stretch (-1: unknown).</summary>
    public required double LoadAverageAtStart { get; init; }

    public static ResourceFigures Between(
        CpuSnapshot cpuBefore, CpuSnapshot cpuAfter, int lifecycles,
        IReadOnlyDictionary<string, double>? hostBefore, IReadOnlyDictionary<string, double>? hostAfter,
        PgSnapshot? pgBefore, PgSnapshot? pgAfter)
    {
        var host = hostBefore is not null && hostAfter is not null ? HostMetrics.Delta(hostBefore, hostAfter) : new Dictionary<string, double>();
        return new ResourceFigures
        {
            WallSeconds = Math.Round(Stopwatch.GetElapsedTime(cpuBefore.Timestamp, cpuAfter.Timestamp).TotalSeconds, 2),
            Lifecycles = lifecycles,
            Host = host,
            HostPerLifecycle = lifecycles > 0
                ? host.ToDictionary(h => h.Key == "host CPU s" ? "host CPU ms" : h.Key, h => Math.Round(h.Key == "host CPU s" ? h.Value * 1000 / lifecycles : h.Value / lifecycles, 3), StringComparer.Ordinal)
                : new Dictionary<string, double>(),
            Pg = pgBefore is not null && pgAfter is not null ? PgSnapshot.Delta(pgBefore, pgAfter, lifecycles) : null,
            DriverCpuSeconds = Math.Round((cpuAfter.DriverCpu - cpuBefore.DriverCpu).TotalSeconds, 2),
            MachineBusyShare = CpuSnapshot.MachineBusy(cpuBefore, cpuAfter),
            LoadAverageAtStart = cpuBefore.LoadAverage1,
        };
    }

    /// <summary>A figure of <see cref="HostPerLifecycle"/>: host CPU is in ms ("host CPU ms"); every other figure is a count.</summary>
    public double? PerLifecycle(string figure) =>
        HostPerLifecycle.TryGetValue(figure, out var v) ? v : null;
}
