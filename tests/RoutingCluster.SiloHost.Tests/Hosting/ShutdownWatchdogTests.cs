using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>
/// The shutdown watchdog on virtual time: armed by a stop signal, it ends the process (here: records the exit code)
/// only once the shutdown timeout and the grace have passed, with one Critical line that says what was not written;
/// a host disposed before that (its stop finished) is not ended. The real thing, a silo process stopped with its
/// database down, is in <c>RoutingCluster.Recovery.Tests</c> (<c>ShutdownTests</c>).
/// </summary>
public sealed class ShutdownWatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    [Fact]
    public void Armed_EndsTheProcessWithExitCode3_OnlyAfterTheShutdownTimeoutAndTheGrace_SayingWhatWasNotWritten()
    {
        var (watchdog, time, exits, log) = Create();
        using (watchdog)
        {
            watchdog.Arm("SIGTERM");
            time.Advance(Timeout + Grace - TimeSpan.FromMilliseconds(1));
            Assert.Empty(exits);

            time.Advance(TimeSpan.FromMilliseconds(1));

            Assert.Equal([ShutdownWatchdog.ExitCode], exits);
            var ending = Assert.Single(log, e => e.Level == LogLevel.Critical);
            Assert.Contains("SHUTDOWN WATCHDOG", ending.Message, StringComparison.Ordinal);
            Assert.Contains("Not written: the statistics intervals of 1 statistics grain(s)", ending.Message, StringComparison.Ordinal);
            Assert.Contains(log, e => e.Level == LogLevel.Information && e.Message.StartsWith("Stop requested (SIGTERM)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ArmedTwice_CountsFromTheFirstSignal()
    {
        var (watchdog, time, exits, _) = Create();
        using (watchdog)
        {
            watchdog.Arm("SIGTERM");
            time.Advance(Timeout);
            watchdog.Arm("SIGINT");
            time.Advance(Grace);

            Assert.Equal([ShutdownWatchdog.ExitCode], exits);
        }
    }

    [Fact]
    public void HostDisposedBeforeTheDeadline_IsNotEnded()
    {
        var (watchdog, time, exits, log) = Create();
        watchdog.Arm("SIGTERM");
        time.Advance(Timeout);

        watchdog.Dispose();
        time.Advance(Grace + TimeSpan.FromMinutes(5));

        Assert.Empty(exits);
        Assert.DoesNotContain(log, e => e.Level == LogLevel.Critical);
    }

    [Fact]
    public void NotArmed_NeverEndsTheProcess()
    {
        var (watchdog, time, exits, _) = Create();
        using (watchdog)
        {
            time.Advance(TimeSpan.FromHours(1));

            Assert.Empty(exits);
            Assert.Null(watchdog.Deadline);
        }
    }

    private static (ShutdownWatchdog Watchdog, FakeTimeProvider Time, ConcurrentQueue<int> Exits, ConcurrentQueue<(LogLevel Level, string Message)> Log) Create()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
        var exits = new ConcurrentQueue<int>();
        var log = new ConcurrentQueue<(LogLevel, string)>();
        var watchdog = new ShutdownWatchdog(Timeout, Grace, time,
            () => "the statistics intervals of 1 statistics grain(s) (2 changed cell(s): Queue cards)",
            new ListLogger<ShutdownWatchdog>(log), exits.Enqueue);
        return (watchdog, time, exits, log);
    }

    private sealed class ListLogger<T>(ConcurrentQueue<(LogLevel, string)> entries) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
