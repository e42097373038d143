using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Ends the process when a stop asked for by a signal (SIGTERM from an orchestrator or <c>scripts/cluster.sh</c>,
/// SIGINT from Ctrl+C, SIGQUIT) is still not done <see cref="Grace"/> after the host's shutdown timeout
/// (<c>Hosting:ShutdownTimeoutSeconds</c>): it logs, at Critical, what could not be written, and exits with
/// <see cref="ExitCode"/>.
/// </summary>
/// <remarks>
/// <para>
/// Why it is needed: when the timeout ends, the host cancels the token it gave every hosted service's <c>StopAsync</c>,
/// but it still waits for them. Orleans' membership agent does not give up on that token: with the membership table
/// unreachable (PostgreSQL down) it keeps trying to mark this silo Stopping in the table (it gave up after 60 s), then
/// Dead (it waits up to a fixed minute), so a silo stopped with the database down took 123 s to exit with a 5-s timeout.
/// The routing code's own stop work (the statistics flush, the statistics grains' last write, the desktop relay)
/// honours the token.
/// </para>
/// <para>
/// What a forced exit loses is what a kill loses, and no more: every session transition, agent change and queue
/// setting acknowledged to a caller was written before it was acknowledged. Not written are this silo's statistics
/// not yet handed over or persisted (listed in the log line; the session records keep every transition, and the
/// figures can be recomputed from them), and this silo's membership row, which may still say it is active: the other
/// silos declare it dead after a few missed probes, and a silo restarted on the same address and port replaces it at once.
/// </para>
/// <para>
/// Only a signal arms it, not every stop of the host: a host inside another process (the tests' in-process hosts) is
/// never ended by it.
/// </para>
/// </remarks>
public sealed partial class ShutdownWatchdog : IHostedService, IDisposable
{
    /// <summary>The exit code of a process ended by the watchdog (a graceful stop exits with 0).</summary>
    public const int ExitCode = 3;

    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly Func<string> _unwritten;
    private readonly ILogger<ShutdownWatchdog> _logger;
    private readonly Action<int> _exit;
    private readonly Lock _lock = new();
    private readonly List<PosixSignalRegistration> _signals = [];
    private ITimer? _timer;
    private bool _disposed;

    public ShutdownWatchdog(IOptions<HostOptions> host, IConfiguration configuration, TimeProvider time, KpiCollector counts,
        UnwrittenStats stats, ILogger<ShutdownWatchdog> logger)
        : this(host.Value.ShutdownTimeout, GraceFrom(configuration), time, () => Unwritten(counts, stats), logger, Environment.Exit)
    {
    }

    /// <summary>For tests: <paramref name="exit"/> instead of <see cref="Environment.Exit"/>; <paramref name="unwritten"/>
    /// says what is not written.</summary>
    internal ShutdownWatchdog(TimeSpan timeout, TimeSpan grace, TimeProvider time, Func<string> unwritten,
        ILogger<ShutdownWatchdog> logger, Action<int> exit)
    {
        _timeout = timeout;
        Grace = grace;
        _time = time;
        _unwritten = unwritten;
        _logger = logger;
        _exit = exit;
    }

    /// <summary>How long after the shutdown timeout the process is ended (<c>Hosting:ShutdownGraceSeconds</c>, 5 s).</summary>
    public TimeSpan Grace { get; }

    /// <summary>When the process is ended if it still runs (null: no stop was asked for by a signal).</summary>
    public DateTimeOffset? Deadline { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
        {
            // Beside the host's own handler (which starts the stop): this one only arms the watchdog.
            _signals.Add(PosixSignalRegistration.Create(signal, context => Arm(context.Signal.ToString())));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Starts the countdown (once; later calls change nothing).</summary>
    public void Arm(string cause)
    {
        lock (_lock)
        {
            if (_disposed || Deadline is not null)
            {
                return;
            }

            var due = _timeout + Grace;
            Deadline = _time.GetUtcNow() + due;
            _timer = _time.CreateTimer(_ => Fire(), null, due, Timeout.InfiniteTimeSpan);
        }

        Armed(_logger, cause, _timeout.TotalSeconds, Grace.TotalSeconds);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
            foreach (var signal in _signals)
            {
                signal.Dispose();
            }

            _signals.Clear();
        }
    }

    /// <summary>What a forced exit leaves unwritten, in words, for the log line.</summary>
    internal static string Unwritten(KpiCollector counts, UnwrittenStats unwritten)
    {
        var stats = unwritten.Now();
        var grains = stats.Count == 0
            ? "no statistics intervals"
            : string.Create(CultureInfo.InvariantCulture,
                $"the statistics intervals of {stats.Count} statistics grain(s) ({stats.Sum(s => s.Cells)} changed cell(s): {string.Join(", ", stats.Take(10).Select(s => $"{s.Kind} {s.GrainKey}"))}{(stats.Count > 10 ? ", ..." : "")})");
        return string.Create(CultureInfo.InvariantCulture,
            $"{grains}; {counts.Unsent} statistics count(s) not yet sent to the statistics grains; possibly this silo's membership row (the other silos declare it dead after missed probes)");
    }

    private void Fire()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return; // the host stopped and was disposed meanwhile
            }
        }

        Ending(_logger, _timeout.TotalSeconds, Grace.TotalSeconds, ExitCode, _unwritten());
        _exit(ExitCode);
    }

    private static TimeSpan GraceFrom(IConfiguration configuration) =>
        TimeSpan.FromSeconds(configuration.GetValue<double?>("Hosting:ShutdownGraceSeconds") ?? 5);

    [LoggerMessage(EventId = LogEventIds.ShutdownArmed, Level = LogLevel.Information,
        Message = "Stop requested ({Cause}): the host waits up to {TimeoutSeconds} s for a graceful stop; a process still running {GraceSeconds} s after that is ended")]
    private static partial void Armed(ILogger logger, string cause, double timeoutSeconds, double graceSeconds);

    [LoggerMessage(EventId = LogEventIds.ShutdownWatchdogEnding, Level = LogLevel.Critical,
        Message = "SHUTDOWN WATCHDOG: the stop did not finish within {TimeoutSeconds} s (Hosting:ShutdownTimeoutSeconds) and {GraceSeconds} s of grace; ending the process with exit code {ExitCode}. " +
                  "Not written: {Unwritten}. Every session, agent and queue change acknowledged to a caller was written before it was acknowledged")]
    private static partial void Ending(ILogger logger, double timeoutSeconds, double graceSeconds, int exitCode, string unwritten);
}
