using System.Diagnostics;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

/// <summary>What the driver reads besides the sessions: the staleness of the live figures, the hosts' Prometheus
/// counters, the database's row counters; and the options that ask for them and for the step mode.</summary>
public sealed class MeasurementTests
{
    private static readonly long Second = Stopwatch.Frequency;

    [Fact]
    public void Lag_IsZeroWhenTheFigureShowsWhatTheDriverSaw_ElseTheAgeOfTheOldestAnswerItMisses()
    {
        long[] accepts = [1 * Second, 2 * Second, 3 * Second, 4 * Second];

        Assert.Equal(0, Staleness.LagTicks(accepts, (2 * Second) + 1, answered: 2));
        Assert.Equal(0, Staleness.LagTicks(accepts, (2 * Second) + 1, answered: 3)); // the server counted before the hub answered
        Assert.Equal(0, Staleness.LagTicks(accepts, Second / 2, answered: 0));
        Assert.Equal((Second * 5 / 2) - (2 * Second), Staleness.LagTicks(accepts, Second * 5 / 2, answered: 1));
        Assert.Equal((5 * Second) - Second, Staleness.LagTicks(accepts, 5 * Second, answered: 0));
        Assert.Equal((5 * Second) - (4 * Second), Staleness.LagTicks(accepts, 5 * Second, answered: 3));
    }

    [Fact]
    public void SeenBy_CountsTheAcceptsAtOrBeforeTheTime()
    {
        long[] accepts = [10, 20, 20, 30];

        Assert.Equal(0, Staleness.SeenBy(accepts, 9));
        Assert.Equal(1, Staleness.SeenBy(accepts, 10));
        Assert.Equal(3, Staleness.SeenBy(accepts, 20));
        Assert.Equal(3, Staleness.SeenBy(accepts, 29));
        Assert.Equal(4, Staleness.SeenBy(accepts, 31));
        Assert.Equal(0, Staleness.SeenBy([], 31));
    }

    [Fact]
    public void Summarize_GivesPercentilesOfThePollsInTheWindow()
    {
        // One answer every 0.1 s for 10 s; the live figure is refreshed once a second (it shows what was seen
        // up to the last whole second), polled every 0.25 s.
        var accepts = Enumerable.Range(1, 100).Select(i => i * Second / 10).ToArray();
        var samples = Enumerable.Range(1, 40).Select(i =>
        {
            var t = i * Second / 4;
            var flushed = t / Second * Second;
            return new StatsSample(t - 1000, t, Staleness.SeenBy(accepts, flushed));
        }).ToList();

        var figures = Staleness.Summarize(samples, accepts, 0, 11 * Second)!;

        Assert.Equal(40, figures.Polls);
        Assert.InRange(figures.MaxSeconds, 0.65, 0.751);
        Assert.InRange(figures.P50Seconds, 0.1, 0.5);
        Assert.True(figures.MaxAnswersBehind is >= 7 and <= 8, figures.MaxAnswersBehind.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Null(Staleness.Summarize(samples, accepts, 20 * Second, 30 * Second));
    }

    [Fact]
    public void AnsweredOf_SumsTheRunsQueuesOfAStatsAnswer()
    {
        const string json = """
            { "groupBy": "queue", "total": { "answered": 99 },
              "groups": [ { "key": "lt-r1-q1", "answered": 10 }, { "key": "lt-r1-q2", "answered": 5 }, { "key": "cards", "answered": 7 } ] }
            """;

        Assert.Equal(15, Staleness.AnsweredOf(json, "lt-r1-q"));
        Assert.Equal(0, Staleness.AnsweredOf("""{ "groups": [] }""", "lt-r1-q"));
    }

    [Fact]
    public void HostMetrics_SumEachNameOverItsLabels_LeaveOutBuckets_AndGiveTheNamedFiguresAsDifferences()
    {
        const string before = """
            # HELP microsoft_orleans_orleans_app_requests_latency_count x
            # TYPE microsoft_orleans_orleans_app_requests_latency_count gauge
            microsoft_orleans_orleans_app_requests_latency_count 100
            microsoft_orleans_orleans_storage_write_latency_count{provider="routing"} 10
            microsoft_orleans_orleans_storage_write_latency_count{provider="stats"} 5
            microsoft_orleans_orleans_storage_write_latency_bucket{le="1"} 999
            process_cpu_seconds_total 2.5
            """;
        const string after = """
            microsoft_orleans_orleans_app_requests_latency_count 1100
            microsoft_orleans_orleans_storage_write_latency_count{provider="routing"} 30
            microsoft_orleans_orleans_storage_write_latency_count{provider="stats"} 6
            npgsql_db_client_operation_duration_count{pool="a"} 40
            process_cpu_seconds_total 4.75 1700000000000
            """;

        var b = HostMetrics.Parse(before);
        var delta = HostMetrics.Delta(b, HostMetrics.Parse(after));

        Assert.Equal(15, b["microsoft_orleans_orleans_storage_write_latency_count"]);
        Assert.DoesNotContain("microsoft_orleans_orleans_storage_write_latency_bucket", b.Keys);
        Assert.Equal(1000, delta["grain calls"]);
        Assert.Equal(21, delta["grain storage writes"]);
        Assert.Equal(40, delta["Npgsql commands"]);
        Assert.Equal(2.25, delta["host CPU s"]);
        Assert.DoesNotContain("activations", delta.Keys);
    }

    [Fact]
    public void HostMetrics_CrossSiloMessages_AreTheSentMessageCountsOfEverySilo_OverEveryLabelSet()
    {
        // Two silos' scrapes as the driver sums them: Orleans' histogram of sent message sizes, per connection and
        // message direction and remote silo; its buckets and sum are not counts of messages.
        const string siloA = """
            # TYPE microsoft_orleans_orleans_messaging_sent_messages_size histogram
            microsoft_orleans_orleans_messaging_sent_messages_size_sum{connectiondirection="SiloToSilo",messagedirection="Request",silo="S127.0.0.1:11201:1"} 90000
            microsoft_orleans_orleans_messaging_sent_messages_size_count{connectiondirection="SiloToSilo",messagedirection="Request",silo="S127.0.0.1:11201:1"} 300
            microsoft_orleans_orleans_messaging_sent_messages_size_bucket{connectiondirection="SiloToSilo",messagedirection="Request",silo="S127.0.0.1:11201:1",le="+Inf"} 300
            microsoft_orleans_orleans_messaging_sent_messages_size_count{connectiondirection="SiloToSilo",messagedirection="Response",silo="S127.0.0.1:11201:1"} 250
            microsoft_orleans_orleans_messaging_sent_messages_size_count{connectiondirection="SiloToSilo",messagedirection="OneWay",silo="S127.0.0.1:11202:1"} 50
            """;
        const string siloB = """
            microsoft_orleans_orleans_messaging_sent_messages_size_count{connectiondirection="SiloToSilo",messagedirection="Request",silo="S127.0.0.1:11200:1"} 400
            """;
        var before = HostMetrics.Parse(siloA.Replace("} 300", "} 100", StringComparison.Ordinal));
        var after = HostMetrics.Parse(siloA);
        foreach (var (name, value) in HostMetrics.Parse(siloB))
        {
            after[name] = after.GetValueOrDefault(name) + value;
        }

        var delta = HostMetrics.Delta(before, after);

        Assert.Contains(HostMetrics.Figures, f => f.Name == "cross-silo messages");
        Assert.Equal(200 + 400, delta["cross-silo messages"]);
        Assert.Equal(6, ResourceFigures.Between(CpuSnapshot.Take(), CpuSnapshot.Take(), 100, before, after, null, null).PerLifecycle("cross-silo messages"));
    }

    [Fact]
    public void Resources_DivideByTheLifecycles_HostCpuInMilliseconds()
    {
        var cpu = CpuSnapshot.Take();
        var host0 = new Dictionary<string, double> { ["microsoft_orleans_orleans_app_requests_latency_count"] = 0, ["process_cpu_seconds_total"] = 1 };
        var host1 = new Dictionary<string, double> { ["microsoft_orleans_orleans_app_requests_latency_count"] = 4_800, ["process_cpu_seconds_total"] = 3 };
        var pg0 = new PgSnapshot(new Dictionary<string, (long, long, long)> { ["routing_session"] = (10, 20, 0) }, 100);
        var pg1 = new PgSnapshot(new Dictionary<string, (long, long, long)> { ["routing_session"] = (110, 320, 0), ["orleansstorage"] = (5, 95, 1) }, 400);

        var figures = ResourceFigures.Between(cpu, cpu, 100, host0, host1, pg0, pg1);

        Assert.Equal(48, figures.PerLifecycle("grain calls"));
        Assert.Equal(20, figures.PerLifecycle("host CPU ms")); // 2 s over 100 lifecycles: 20 ms each
        Assert.Equal(100 + 300 + 5 + 95, figures.Pg!.Inserted + figures.Pg.Updated);
        Assert.Equal(5, figures.Pg.RowsWrittenPerLifecycle);
        Assert.Equal(3, figures.Pg.CommitsPerLifecycle);
        Assert.Equal(400, figures.Pg.RowsWrittenByTable["routing_session"]);
    }

    [Fact]
    public void Options_StepMode_DefaultsTheIncrementToTheFirstRate_AndSizesTheAgentsForTheHighestStep()
    {
        var options = LoadOptions.Parse(["--step-from", "50", "--step-max", "2000", "--step-s", "15", "--agents", "auto",
            "--accept-delay-ms", "20", "--talk-s", "0.05", "--wrap-up-s", "0"]);

        Assert.NotNull(options.Step);
        Assert.Equal(50, options.Step!.By);
        Assert.Null(options.Step.Factor);
        Assert.Equal(40, options.Step.Rates().Count);
        Assert.Equal(15, options.DurationSeconds);
        Assert.Equal(50, options.Rate);
        Assert.Equal(50, options.Step.P99LimitMs);
        Assert.True(options.AgentsAuto);

        // 2000/s x 0.07 s: voice (half, capacity 1) 70 + chat (half, capacity 3) 23.3 = 93.3; x3 + 10 = 290.
        Assert.Equal(290, options.Agents);
    }

    [Fact]
    public void Options_StepFactor_AndTheOtherMeasurementOptions()
    {
        var options = LoadOptions.Parse(["--step-from", "40", "--step-factor", "1.5", "--step-max", "300", "--step-p99-ms", "20",
            "--targets", "http://127.0.0.1:5101,http://127.0.0.1:5102", "--pg-stats", "Host=127.0.0.1;Port=55100", "--watch-stats", "on", "--host-metrics", "off"]);

        Assert.Equal([40, 60, 90, 135, 202.5], options.Step!.Rates());
        Assert.Equal(20, options.Step.P99LimitMs);
        Assert.Equal([new Uri("http://127.0.0.1:5101"), new Uri("http://127.0.0.1:5102")], options.Targets);
        Assert.Equal(new Uri("http://127.0.0.1:5101"), options.Target);
        Assert.Equal("Host=127.0.0.1;Port=55100", options.PgStats);
        Assert.True(options.WatchStats);
        Assert.False(options.HostMetrics);
        Assert.Null(LoadOptions.Parse([]).Step);
        Assert.Equal([new Uri("http://127.0.0.1:5000")], LoadOptions.Parse([]).Targets);
    }

    [Theory]
    [InlineData(new[] { "--step-from", "50", "--rate", "100" }, "leave out --rate and --duration-s")]
    [InlineData(new[] { "--step-from", "50", "--duration-s", "10" }, "leave out --rate and --duration-s")]
    [InlineData(new[] { "--step-from", "50", "--step-by", "10", "--step-factor", "2" }, "Give --step-by or --step-factor, not both")]
    [InlineData(new[] { "--step-from", "500", "--step-max", "100" }, "--step-max (100) is below --step-from (500)")]
    [InlineData(new[] { "--step-from", "50", "--step-factor", "1" }, "--step-factor must be a number from 1.01 to 10")]
    [InlineData(new[] { "--step-from", "50", "--step-s", "10", "--warmup-s", "10" }, "--warmup-s (10) must be shorter than --step-s (10)")]
    [InlineData(new[] { "--target", "http://127.0.0.1:1", "--targets", "http://127.0.0.1:2" }, "Give --target or --targets, not both")]
    [InlineData(new[] { "--targets", "http://127.0.0.1:1,http://10.0.0.1:2" }, "only loads a host on this machine")]
    [InlineData(new[] { "--watch-stats", "yes" }, "--watch-stats must be on or off, not 'yes'")]
    [InlineData(new[] { "--agents", "many" }, "--agents must be a whole number")]
    public void Options_RefuseBadStepAndMeasurementOptions_NamingThem(string[] args, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => LoadOptions.Parse(args));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sessions_OfAStep_CarryTheStepsTagInTheirKeys_SoStepsDoNotCollide()
    {
        var workload = new Workload(LoadOptions.Parse(["--run-id", "t9", "--step-from", "20", "--step-s", "5"]));

        var first = workload.Sessions(20, 5, 2, "s1-");
        var second = workload.Sessions(40, 5, 3, "s2-");

        Assert.StartsWith("lt-t9-s1-", first[0].IdempotencyKey, StringComparison.Ordinal);
        Assert.StartsWith("c-t9-s2-", second[0].Request.Customer.Id, StringComparison.Ordinal);
        Assert.Empty(first.Select(p => p.IdempotencyKey).Intersect(second.Select(p => p.IdempotencyKey)));
        Assert.InRange(second.Count, 150, 250);
        Assert.Equal("lt-t9-0", new Workload(LoadOptions.Parse(["--run-id", "t9"])).Sessions()[0].IdempotencyKey);
    }
}
