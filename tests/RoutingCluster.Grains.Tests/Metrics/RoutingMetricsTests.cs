using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Metrics;

/// <summary>What <see cref="RoutingMetrics"/> publishes, read with a <see cref="MeterListener"/> on a meter factory of
/// the test's own (no cluster): names, units, tags in their wire names, values.</summary>
public sealed class RoutingMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddRoutingGrains().BuildServiceProvider();
    private readonly RoutingMetrics _metrics;
    private readonly Recorder _recorded;

    public RoutingMetricsTests()
    {
        _metrics = _services.GetRequiredService<RoutingMetrics>();
        _recorded = new Recorder(_services.GetRequiredService<IMeterFactory>());
    }

    public void Dispose()
    {
        _recorded.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void AddRoutingGrains_RegistersOneRoutingMetrics()
    {
        Assert.Same(_metrics, _services.GetRequiredService<RoutingMetrics>());
    }

    [Fact]
    public void Instruments_HaveTheirNamesAndUnits_OnTheRoutingClusterMeter()
    {
        var expected = new Dictionary<string, string?>
        {
            ["routing.sessions.offered"] = "{session}",
            ["routing.sessions.answered"] = "{session}",
            ["routing.sessions.abandoned"] = "{session}",
            ["routing.sessions.overflowed"] = "{session}",
            ["routing.sessions.refused"] = "{session}",
            ["routing.events.dropped"] = "{event}",
            ["routing.session.speed_of_answer"] = "s",
            ["routing.queue.waiting"] = "{session}",
            ["routing.queue.longest_wait"] = "s",
            ["routing.queue.elderly_waiting"] = "{session}",
            ["routing.queue.service_level"] = "1",
            ["routing.queue.answer_rate"] = "1",
            ["routing.queue.agents_ready"] = "{agent}",
            ["routing.queue.agents_busy"] = "{agent}",
        };

        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), _recorded.Units.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(RoutingMetrics.MeterName, Assert.Single(_recorded.MeterNames));
    }

    [Fact]
    public void SessionOffered_CountsEachCall_TaggedWithTheQueueAndTheChannelsWireName()
    {
        _metrics.SessionOffered("cards", Channel.FiveG);
        _metrics.SessionOffered("cards", Channel.FiveG);
        _metrics.SessionOffered("loans", Channel.Voice);

        Assert.Equal(
            new[] { ("cards", "5g", 1.0), ("cards", "5g", 1.0), ("loans", "voice", 1.0) },
            _recorded.Of("routing.sessions.offered").Select(m => (m.Tag("queue"), m.Tag("channel"), m.Value)));
    }

    [Fact]
    public void EventDropped_CountsEachEvent_TaggedWithItsStream()
    {
        _metrics.EventDropped("session");
        _metrics.EventDropped("agent");
        _metrics.EventDropped("session");

        Assert.Equal(
            new[] { ("session", 1.0), ("agent", 1.0), ("session", 1.0) },
            _recorded.Of("routing.events.dropped").Select(m => (m.Tag("stream"), m.Value)));
    }

    [Theory]
    [InlineData("routing.sessions.abandoned")]
    [InlineData("routing.sessions.overflowed")]
    [InlineData("routing.sessions.refused")]
    public void EachOutcome_CountsOnItsOwnCounter(string instrument)
    {
        Action<string, Channel> record = instrument switch
        {
            "routing.sessions.abandoned" => _metrics.SessionAbandoned,
            "routing.sessions.overflowed" => _metrics.SessionOverflowed,
            _ => _metrics.SessionRefused,
        };

        record("cards", Channel.Chat);

        var measurement = Assert.Single(_recorded.All);
        Assert.Equal(instrument, measurement.Instrument);
        Assert.Equal(1, measurement.Value);
        Assert.Equal(["channel", "queue"], measurement.Tags.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("chat", measurement.Tag("channel"));
    }

    [Fact]
    public void SessionAnswered_CountsIt_AndRecordsTheSpeedOfAnswerInSeconds_PerQueue()
    {
        _metrics.SessionAnswered("cards", Channel.Video, TimeSpan.FromMilliseconds(12_500));

        var answered = Assert.Single(_recorded.Of("routing.sessions.answered"));
        Assert.Equal(("cards", "video", 1.0), (answered.Tag("queue"), answered.Tag("channel"), answered.Value));
        var speed = Assert.Single(_recorded.Of("routing.session.speed_of_answer"));
        Assert.Equal(12.5, speed.Value);
        Assert.Equal(["queue"], speed.Tags.Keys);
        Assert.Equal("cards", speed.Tag("queue"));
    }

    [Fact]
    public void SpeedOfAnswer_AdvisesBucketsAroundTheServiceLevelThresholds()
    {
        var histogram = Assert.IsType<Histogram<double>>(_recorded.Instruments["routing.session.speed_of_answer"]);

        var bounds = histogram.Advice?.HistogramBucketBoundaries;
        Assert.NotNull(bounds);
        Assert.Equal(RoutingMetrics.SpeedOfAnswerBuckets, bounds);
        Assert.Contains(20.0, bounds);
    }

    [Fact]
    public void QueueGauges_ReportNothing_UntilASourceIsRegistered()
    {
        _recorded.Collect();

        Assert.Empty(_recorded.All);
    }

    [Fact]
    public void QueueGauges_ReportEachQueuesFigures_AndLeaveOutTheFiguresThatAreNull()
    {
        _metrics.ObserveQueues(() =>
        [
            new QueueGauge("cards", Waiting: 7, LongestWaitSeconds: 42.5, ElderlyWaiting: 2, ServiceLevel: 0.8, AnswerRate: 0.95, AgentsReady: 3, AgentsBusy: 4),
            new QueueGauge("loans", Waiting: 0, LongestWaitSeconds: 0, ElderlyWaiting: 0, ServiceLevel: null, AnswerRate: null, AgentsReady: 1, AgentsBusy: 0),
        ]);

        _recorded.Collect();

        var byGauge = _recorded.All.ToLookup(m => m.Instrument);
        Assert.All(_recorded.All, m => Assert.Equal(["queue"], m.Tags.Keys));
        Assert.Equal([("cards", 7.0), ("loans", 0.0)], Figures(byGauge["routing.queue.waiting"]));
        Assert.Equal([("cards", 42.5), ("loans", 0.0)], Figures(byGauge["routing.queue.longest_wait"]));
        Assert.Equal([("cards", 2.0), ("loans", 0.0)], Figures(byGauge["routing.queue.elderly_waiting"]));
        Assert.Equal([("cards", 0.8)], Figures(byGauge["routing.queue.service_level"]));
        Assert.Equal([("cards", 0.95)], Figures(byGauge["routing.queue.answer_rate"]));
        Assert.Equal([("cards", 3.0), ("loans", 1.0)], Figures(byGauge["routing.queue.agents_ready"]));
        Assert.Equal([("cards", 4.0), ("loans", 0.0)], Figures(byGauge["routing.queue.agents_busy"]));
    }

    [Fact]
    public void QueueGauges_ReadTheSourceAtEachCollection_AndALaterSourceReplacesTheFirst()
    {
        var waiting = 1;
        _metrics.ObserveQueues(() => [new QueueGauge("cards", waiting, 0, 0, null, null, 0, 0)]);
        _recorded.Collect();
        waiting = 5;
        _recorded.Collect();
        _metrics.ObserveQueues(() => [new QueueGauge("loans", 9, 0, 0, null, null, 0, 0)]);
        _recorded.Collect();

        Assert.Equal([("cards", 1.0), ("cards", 5.0), ("loans", 9.0)], Figures(_recorded.Of("routing.queue.waiting")));
    }

    [Fact]
    public void QueueGauges_WhenTheSourceThrows_ReportNothing_InsteadOfFailingTheCollection()
    {
        _metrics.ObserveQueues(() => throw new InvalidOperationException("stats not ready"));

        _recorded.Collect();

        Assert.Empty(_recorded.All);
    }

    private static IEnumerable<(string, double)> Figures(IEnumerable<Recorded> measurements) =>
        measurements.Select(m => (m.Tag("queue"), m.Value));

    private sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        public string Tag(string name) => Assert.IsType<string>(Tags[name]);
    }

    /// <summary>Records every measurement of the instruments that this test's meter factory created.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<Recorded> _all = [];

        public Recorder(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    Instruments[instrument.Name] = instrument;
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        public Dictionary<string, Instrument> Instruments { get; } = [];

        public IEnumerable<KeyValuePair<string, string?>> Units => Instruments.Select(i => KeyValuePair.Create(i.Key, i.Value.Unit));

        public IEnumerable<string> MeterNames => Instruments.Values.Select(i => i.Meter.Name).Distinct();

        public IReadOnlyList<Recorded> All => _all;

        public IEnumerable<Recorded> Of(string instrument) => _all.Where(m => m.Instrument == instrument);

        public void Collect() => _listener.RecordObservableInstruments();

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            _all.Add(new Recorded(instrument.Name, value, copy));
        }
    }
}
