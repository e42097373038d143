using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Metrics;

/// <summary>
/// The routing cluster's own metrics, through <see cref="System.Diagnostics.Metrics"/>: one <see cref="Meter"/> named
/// <see cref="MeterName"/> per host (created through <see cref="IMeterFactory"/>), which the silo host exports to
/// Prometheus (<c>/metrics</c>) and, when configured, to an OpenTelemetry collector.
/// <list type="bullet">
/// <item>Counters of session outcomes, per queue and channel: <c>routing.sessions.offered</c>, <c>.answered</c>,
/// <c>.abandoned</c>, <c>.overflowed</c>, <c>.refused</c>; events dropped by a refusing stream, per stream namespace
/// (<c>routing.events.dropped</c>).</item>
/// <item>The speed of answer of each answered session, a histogram in seconds per queue
/// (<c>routing.session.speed_of_answer</c>).</item>
/// <item>Gauges per queue (waiting, longest wait, elderly waiting, service level, answer rate, agents ready and
/// busy), read from the source given to <see cref="ObserveQueues"/> each time a collector asks.</item>
/// </list>
/// Tag values are the wire names of the HTTP API: <c>queue</c> is the queue id, <c>channel</c> the channel's
/// wire name (<c>voice</c>, <c>5g</c>). The methods are cheap and never throw: with no listener, recording costs a
/// check; with one, an increment without allocation.
/// </summary>
public sealed partial class RoutingMetrics
{
    /// <summary>The name of the meter, which exporters subscribe to.</summary>
    public const string MeterName = "RoutingCluster";

    /// <summary>The histogram buckets of the speed of answer, in seconds: fine around the usual service-level
    /// thresholds (10, 15, 20, 30, 60 s), coarse beyond.</summary>
    public static IReadOnlyList<double> SpeedOfAnswerBuckets { get; } = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200];

    private const string QueueTag = "queue";
    private const string ChannelTag = "channel";

    private readonly Counter<long> _offered;
    private readonly Counter<long> _answered;
    private readonly Counter<long> _abandoned;
    private readonly Counter<long> _overflowed;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _eventsDropped;
    private readonly Histogram<double> _speedOfAnswer;

    private readonly ILogger _logger;
    private Func<IReadOnlyCollection<QueueGauge>>? _queues;

    public RoutingMetrics(IMeterFactory meterFactory, ILogger<RoutingMetrics>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _logger = logger ?? NullLogger<RoutingMetrics>.Instance;
        var meter = meterFactory.Create(MeterName);

        _offered = meter.CreateCounter<long>("routing.sessions.offered", "{session}", "Sessions that reached the queue: the KPI 'offered', denominator of the answer rate and the service level (not offers to agents).");
        _answered = meter.CreateCounter<long>("routing.sessions.answered", "{session}", "Sessions an agent accepted.");
        _abandoned = meter.CreateCounter<long>("routing.sessions.abandoned", "{session}", "Sessions the customer left while queued or offered.");
        _overflowed = meter.CreateCounter<long>("routing.sessions.overflowed", "{session}", "Sessions moved to the queue's overflow queue (counted on the queue they left).");
        _refused = meter.CreateCounter<long>("routing.sessions.refused", "{session}", "Sessions refused at creation because the queue was full.");
        _eventsDropped = meter.CreateCounter<long>("routing.events.dropped", "{event}", "Session and agent events a stream refused (its queue full under overload): dropped, the routing step that published them stands.");
        _speedOfAnswer = meter.CreateHistogram(
            "routing.session.speed_of_answer",
            "s",
            "Time from joining the queue to being answered by an agent, offer time included.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SpeedOfAnswerBuckets });

        meter.CreateObservableGauge("routing.queue.waiting", () => Observe(q => q.Waiting), "{session}", "Sessions waiting in the queue now.");
        meter.CreateObservableGauge("routing.queue.longest_wait", () => Observe(q => q.LongestWaitSeconds), "s", "How long the longest-waiting session of the queue has waited.");
        meter.CreateObservableGauge("routing.queue.elderly_waiting", () => Observe(q => q.ElderlyWaiting), "{session}", "Sessions of elderly customers waiting in the queue now.");
        meter.CreateObservableGauge("routing.queue.service_level", () => ObserveOptional(q => q.ServiceLevel), "1", "Service level of the queue today at its threshold, a fraction in [0, 1].");
        meter.CreateObservableGauge("routing.queue.answer_rate", () => ObserveOptional(q => q.AnswerRate), "1", "Answer rate of the queue today, a fraction in [0, 1].");
        meter.CreateObservableGauge("routing.queue.agents_ready", () => Observe(q => q.AgentsReady), "{agent}", "Agents serving the queue that are ready.");
        meter.CreateObservableGauge("routing.queue.agents_busy", () => Observe(q => q.AgentsBusy), "{agent}", "Agents serving the queue that hold at least one session.");
    }

    /// <summary>A session reached <paramref name="queueId"/>: "offered" as the KPI definitions use the word (a session
    /// that reached a human queue, the denominator of answer rate and service level), not an offer to an agent.</summary>
    public void SessionOffered(string queueId, Channel channel) => _offered.Add(1, Queue(queueId), Of(channel));

    /// <summary>An agent accepted a session of <paramref name="queueId"/>, <paramref name="speedOfAnswer"/> after it
    /// joined the queue (offer time included).</summary>
    public void SessionAnswered(string queueId, Channel channel, TimeSpan speedOfAnswer)
    {
        _answered.Add(1, Queue(queueId), Of(channel));
        _speedOfAnswer.Record(Math.Max(0, speedOfAnswer.TotalSeconds), Queue(queueId));
    }

    /// <summary>The customer left a session of <paramref name="queueId"/> while it was queued or offered.</summary>
    public void SessionAbandoned(string queueId, Channel channel) => _abandoned.Add(1, Queue(queueId), Of(channel));

    /// <summary>A session left <paramref name="queueId"/> for the queue's overflow queue.</summary>
    public void SessionOverflowed(string queueId, Channel channel) => _overflowed.Add(1, Queue(queueId), Of(channel));

    /// <summary>A session was refused at creation because <paramref name="queueId"/> was full.</summary>
    public void SessionRefused(string queueId, Channel channel) => _refused.Add(1, Queue(queueId), Of(channel));

    /// <summary>An event of <paramref name="streamNamespace"/> (<c>session</c>, <c>agent</c>) was refused by its stream and dropped.</summary>
    public void EventDropped(string streamNamespace) => _eventsDropped.Add(1, new KeyValuePair<string, object?>("stream", streamNamespace));

    /// <summary>
    /// Where the per-queue gauges read their figures: <paramref name="source"/> is called on a collector's thread
    /// each time the gauges are collected (once per gauge and collection, a Prometheus scrape or an OTLP export),
    /// so it should return a snapshot it already holds rather than ask grains. A later call replaces the source;
    /// until one is given the gauges report nothing. A null figure (no rate yet) is left out; a source that throws
    /// reports nothing for that collection rather than failing the exporter.
    /// </summary>
    public void ObserveQueues(Func<IReadOnlyCollection<QueueGauge>> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Volatile.Write(ref _queues, source);
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<QueueGauge, T> figure)
        where T : struct => ObserveOptional(q => (T?)figure(q));

    private IEnumerable<Measurement<T>> ObserveOptional<T>(Func<QueueGauge, T?> figure)
        where T : struct
    {
        var queues = Snapshot();
        var measurements = new List<Measurement<T>>(queues.Count);
        foreach (var queue in queues)
        {
            if (figure(queue) is { } value)
            {
                measurements.Add(new Measurement<T>(value, Queue(queue.QueueId)));
            }
        }

        return measurements;
    }

    private IReadOnlyCollection<QueueGauge> Snapshot()
    {
        var source = Volatile.Read(ref _queues);
        if (source is null)
        {
            return [];
        }

        try
        {
            return source() ?? [];
        }
#pragma warning disable CA1031 // A failing source must not fail the exporter's collection of every other metric.
        catch (Exception e)
#pragma warning restore CA1031
        {
            SourceFailed(_logger, e);
            return [];
        }
    }

    [LoggerMessage(EventId = LogEventIds.QueueGaugeSourceFailed, Level = LogLevel.Warning, Message = "The queue gauge source failed; the queue gauges report nothing this time")]
    private static partial void SourceFailed(ILogger logger, Exception exception);

    private static KeyValuePair<string, object?> Queue(string queueId) => new(QueueTag, queueId);

    private static KeyValuePair<string, object?> Of(Channel channel) => new(ChannelTag, WireNames<Channel>.Of(channel));
}

/// <summary>The live figures of one queue that <see cref="RoutingMetrics"/> publishes as gauges.</summary>
/// <param name="QueueId">The queue.</param>
/// <param name="Waiting">Sessions waiting now.</param>
/// <param name="LongestWaitSeconds">How long the longest-waiting session has waited, in seconds (0 when none waits).</param>
/// <param name="ElderlyWaiting">Sessions of elderly customers waiting now.</param>
/// <param name="ServiceLevel">Service level today at the queue's threshold, a fraction in [0, 1]; null while undefined.</param>
/// <param name="AnswerRate">Answer rate today, a fraction in [0, 1]; null while undefined.</param>
/// <param name="AgentsReady">Agents serving the queue that are ready.</param>
/// <param name="AgentsBusy">Agents serving the queue that hold at least one session.</param>
public sealed record QueueGauge(
    string QueueId,
    int Waiting,
    double LongestWaitSeconds,
    int ElderlyWaiting,
    double? ServiceLevel,
    double? AnswerRate,
    int AgentsReady,
    int AgentsBusy);
