using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests;

/// <summary>
/// <c>offer-latency</c>: how long from a gateway's <c>POST /v1/sessions</c> until the chosen agent's desktop has
/// the offer (HTTP in, routing in the cluster, SignalR out). Agents answer at once (accept, end, wrap-up done,
/// with a wrap-up time of 0 s), so every session finds a free agent: the figure is the routing path itself, not
/// waiting for an agent.
/// </summary>
internal static class OfferLatency
{
    private static readonly TimeSpan OfferDeadline = TimeSpan.FromSeconds(30);

    private sealed record Settings(Uri Target, int Sessions, int Agents, string QueueId, double Rate, int Warmup, int MaxSeconds, string? Out);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        Settings settings;
        try
        {
            var line = new CommandLine(args);
            var target = line.Text("target", "http://127.0.0.1:5000");
            settings = new Settings(
                Uri.TryCreate(target, UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"--target '{target}' is not an absolute URL."),
                line.Int("sessions", 1000, 1, 1_000_000),
                line.Int("agents", 50, 1, 5_000),
                line.Text("queue", "lat"),
                line.Double("rate", 0, 0, 100_000),
                line.Int("warmup", 0, 0, 100_000),
                line.Int("max-seconds", 120, 1, 86_400),
                line.OptionalText("out"));
            line.RejectUnknown();
            if (!settings.Target.IsLoopback)
            {
                throw new ArgumentException($"--target must be a loopback address (127.0.0.1, ::1, localhost), not '{settings.Target.Host}': this driver only loads a host on this machine.");
            }
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(settings.MaxSeconds));
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        try
        {
            return await RunAsync(settings, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"Stopped: --max-seconds {settings.MaxSeconds} reached before the setup finished.");
            return 1;
        }
        catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"Failed: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken stop)
    {
        var runId = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        using var http = LoadTokens.Client(settings.Target);
        var offers = new ConcurrentDictionary<string, TaskCompletionSource<long>>(StringComparer.Ordinal);
        var answerFailures = 0;
        var completed = 0;
        var answering = 0;

        // Setup over HTTP: the queue (wrap-up 0 s, room for every session) and the agents serving only it.
        await http.PutQueueAsync(settings.QueueId, new QueueSettings
        {
            Name = "Offer latency (load test)",
            WrapUpSeconds = 0,
            OfferTimeoutSeconds = 60,
            MaxWaiting = 1_000_000,
            MaxWaitSeconds = 3_600,
        }, stop);
        var agentIds = Enumerable.Range(1, settings.Agents).Select(i => $"{settings.QueueId}-{runId}-{i:D4}").ToArray();
        await Parallel.ForEachAsync(agentIds, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stop }, async (agentId, ct) =>
            await http.PutAgentAsync(agentId, new AgentProfile { Name = "Load test agent", Queues = [settings.QueueId] }, ct));

        // The desktops: signed in over SignalR, ready; each answers its offers at once.
        var desktops = new ConcurrentBag<AgentDesktopClient>();
        try
        {
            await Parallel.ForEachAsync(agentIds, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stop }, async (agentId, ct) =>
            {
                var desktop = new AgentDesktopClient(settings.Target, new AgentDesktopOptions { AccessTokens = LoadTokens.Agents(settings.Target) });
                desktops.Add(desktop);
                desktop.OfferReceived += async (offer, _) =>
                {
                    var receivedAt = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref answering);
                    offers.GetOrAdd(offer.SessionId, _ => NewSignal()).TrySetResult(receivedAt);
                    try
                    {
                        if (!(await desktop.AcceptAsync(offer.SessionId)).Ok || !(await desktop.EndAsync(offer.SessionId)).Ok)
                        {
                            Interlocked.Increment(ref answerFailures);
                            return;
                        }

                        // 409 here means the 0 s wrap-up already ended by itself: the session is completed either way.
                        await desktop.WrapUpDoneAsync(offer.SessionId);
                        Interlocked.Increment(ref completed);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref answering);
                    }
                };
                await desktop.SignInAsync(agentId, ct);
                var ready = await desktop.SetStateAsync(AgentState.Ready, cancellationToken: ct);
                if (!ready.Ok)
                {
                    throw new InvalidOperationException($"Agent {agentId} could not go ready: {ready.Status} {ready.Detail}");
                }
            });
            Console.WriteLine($"Set up queue '{settings.QueueId}' and {settings.Agents} agents (signed in, ready); run {runId}.");

            var total = settings.Warmup + settings.Sessions;
            var latencies = new long[total];
            var answered = new long[total];
            Array.Fill(latencies, -1);
            Array.Fill(answered, -1);
            var createFailures = 0;
            var clock = Stopwatch.StartNew();

            async Task MeasureOneAsync(int i)
            {
                var request = new CreateSessionRequest { QueueId = settings.QueueId, Channel = Channel.Voice, Customer = new Customer { Id = $"lt-{i}" } };
                var start = Stopwatch.GetTimestamp();
                SessionCreated created;
                try
                {
                    created = await http.CreateSessionAsync(request, $"{runId}-{i}", stop);
                    answered[i] = Stopwatch.GetTimestamp() - start;
                }
                catch (Exception ex) when (ex is RoutingApiException or HttpRequestException or TimeoutException)
                {
                    Interlocked.Increment(ref createFailures);
                    return;
                }

                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
                deadline.CancelAfter(OfferDeadline);
                try
                {
                    var offeredAt = await offers.GetOrAdd(created.Session.Id, _ => NewSignal()).Task.WaitAsync(deadline.Token);
                    latencies[i] = offeredAt - start;
                }
                catch (OperationCanceledException)
                {
                    // No offer in time: counted as missing below.
                }
            }

            if (settings.Rate <= 0)
            {
                // Closed loop: one session at a time, the next once the previous offer arrived.
                for (var i = 0; i < total && !stop.IsCancellationRequested; i++)
                {
                    await MeasureOneAsync(i);
                }
            }
            else
            {
                // Open loop: sessions start on a fixed schedule, whether or not earlier offers arrived.
                var running = new List<Task>(total);
                var interval = Stopwatch.Frequency / settings.Rate;
                var begin = Stopwatch.GetTimestamp();
                for (var i = 0; i < total && !stop.IsCancellationRequested; i++)
                {
                    var due = TimeSpan.FromSeconds(((begin + (i * interval)) - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
                    if (due > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(due, stop);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }

                    running.Add(MeasureOneAsync(i));
                }

                await Task.WhenAll(running);
            }

            var elapsed = clock.Elapsed;

            // Let the desktops finish answering the last offers (bounded), so the counts below are final.
            var drain = Stopwatch.StartNew();
            while (Volatile.Read(ref answering) > 0 && drain.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(10, CancellationToken.None);
            }
            var measured = latencies.Skip(settings.Warmup).Where(l => l >= 0).ToList();
            var histogram = Histogram(measured);
            var posts = Histogram(answered.Skip(settings.Warmup).Where(l => l >= 0));

            var missing = settings.Sessions - measured.Count;
            var mode = settings.Rate <= 0 ? "one at a time" : $"{settings.Rate.ToString(CultureInfo.InvariantCulture)}/s open loop";
            Console.WriteLine(
                $"Created {total - createFailures} of {total} sessions in {elapsed.TotalSeconds:F1} s ({(total - createFailures) / elapsed.TotalSeconds:F0}/s); " +
                $"offers measured {measured.Count} of {settings.Sessions} (warm-up {settings.Warmup} not counted); create failures {createFailures}; " +
                $"accept/end failures {answerFailures}; sessions served {completed}.");
            if (posts.TotalCount > 0)
            {
                Console.WriteLine(
                    $"For comparison, POST /v1/sessions answered (201) after: p50 {Ms(posts.GetValueAtPercentile(50))} ms, p90 {Ms(posts.GetValueAtPercentile(90))} ms, " +
                    $"p99 {Ms(posts.GetValueAtPercentile(99))} ms, max {Ms(posts.GetMaxValue())} ms.");
            }

            var header = "| command | target | agents | sessions | mode | count | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|---|---|";
            var row = measured.Count == 0
                ? $"| offer-latency | {settings.Target} | {settings.Agents} | {settings.Sessions} | {mode} | 0 | - | - | - | - |"
                : $"| offer-latency | {settings.Target} | {settings.Agents} | {settings.Sessions} | {mode} | {histogram.TotalCount} | " +
                  $"{Ms(histogram.GetValueAtPercentile(50))} | {Ms(histogram.GetValueAtPercentile(90))} | {Ms(histogram.GetValueAtPercentile(99))} | {Ms(histogram.GetMaxValue())} |";
            Console.WriteLine(header);
            Console.WriteLine(row);
            if (settings.Out is { } path)
            {
                var existing = File.Exists(path) && new FileInfo(path).Length > 0;
                await File.AppendAllTextAsync(path, (existing ? string.Empty : header + "\n") + row + "\n", CancellationToken.None);
            }

            if (stop.IsCancellationRequested)
            {
                Console.WriteLine($"Stopped by --max-seconds {settings.MaxSeconds} before every session was created.");
            }

            return missing == 0 && createFailures == 0 && answerFailures == 0 ? 0 : 1;
        }
        finally
        {
            // Leave the agents logged out, so a later run's sessions do not go to them.
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Parallel.ForEachAsync(desktops, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (desktop, _) =>
            {
                try
                {
                    if (desktop.AgentId is not null)
                    {
                        await desktop.SetStateAsync(AgentState.LoggedOut, cancellationToken: cleanup.Token);
                    }
                }
#pragma warning disable CA1031 // Best effort: the host may be gone already.
                catch (Exception)
#pragma warning restore CA1031
                {
                }

                await desktop.DisposeAsync();
            });
        }
    }

    /// <summary>Stopwatch durations in a histogram of microseconds (up to 5 minutes, 3 significant digits).</summary>
    private static LongHistogram Histogram(IEnumerable<long> stopwatchTicks)
    {
        var histogram = new LongHistogram(300_000_000, 3);
        foreach (var ticks in stopwatchTicks)
        {
            histogram.RecordValue(Math.Min(ToMicroseconds(ticks), histogram.HighestTrackableValue));
        }

        return histogram;
    }

    private static TaskCompletionSource<long> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static long ToMicroseconds(long stopwatchTicks) => stopwatchTicks * 1_000_000 / Stopwatch.Frequency;

    private static string Ms(long microseconds) => (microseconds / 1000.0).ToString("F2", CultureInfo.InvariantCulture);
}
