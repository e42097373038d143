using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Decides, before any grain is called, whether this silo takes a new session now. It refuses (the API answers 503
/// with <c>Retry-After</c>) when the silo's measured delay is above <see cref="AdmissionOptions.MaxDelay"/> or when
/// <see cref="AdmissionOptions.MaxCreatesInFlight"/> creates are being served already; priority customers have higher
/// bounds, so they are refused last. What is admitted is then served without a backlog building up behind it.
/// </summary>
/// <remarks>
/// <para>The delay is the larger of two medians, each of the latest samples within two
/// <see cref="AdmissionOptions.Window"/>s (and only once <see cref="AdmissionOptions.MinimumSamples"/> are there):</para>
/// <list type="bullet">
/// <item>the thread pool's queueing delay, sampled every <see cref="AdmissionOptions.ProbeInterval"/> (grain turns,
/// HTTP requests and hub messages all run on it, so a saturated CPU shows here first);</item>
/// <item>how long admitted creates took, from admission to the session grain's answer: that includes the wait for
/// the session's and its queue's turns, so a routing backlog (a busy queue grain) shows here even while the CPU has
/// room;</item>
/// <item>and, so that a backlog counts before its creates are answered, how long the creates in flight have waited so
/// far (their average age, once there are enough of them).</item>
/// </list>
/// <para>Refusing lowers both within a window or two, and admission opens again by itself: nothing older than two
/// windows counts. Only new sessions are refused here; agent actions, reads and everything a session does once created are
/// never refused by admission.</para>
/// </remarks>
public sealed class SessionAdmission : IDisposable
{
    /// <summary>At most one warning about refusals this often.</summary>
    public static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private readonly AdmissionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionAdmission> _logger;
    private readonly DelayWindow _queueing;
    private readonly DelayWindow _creates;
    private readonly Counter<long> _refused;
    private readonly Meter? _meter;
    private readonly Lock _inFlightLock = new();
    private int _inFlight;
    private long _inFlightStarts;
    private long _refusedSinceLog;
    private long _lastLog;

    public SessionAdmission(IOptions<AdmissionOptions> options, TimeProvider time, IMeterFactory meters, ILogger<SessionAdmission> logger)
        : this(options.Value, time, logger, meters.Create(RoutingMetrics.MeterName))
    {
    }

    internal SessionAdmission(AdmissionOptions options, TimeProvider time, ILogger<SessionAdmission> logger, Meter meter)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _queueing = new DelayWindow(time, options.Window, options.MinimumSamples);
        _creates = new DelayWindow(time, options.Window, options.MinimumSamples);
        _meter = meter;
        _refused = meter.CreateCounter<long>("routing.admission.refused", "{session}",
            "New sessions refused with 503 because this silo was overloaded (before any grain was called).");
        meter.CreateObservableGauge("routing.admission.delay", () => Delay.TotalSeconds, "s",
            "The delay admission decides on: the larger of the medians of the thread pool's queueing delay and of the time admitted creates took, over the last two seconds.");
        meter.CreateObservableGauge("routing.admission.creates_in_flight", () => Volatile.Read(ref _inFlight), "{session}",
            "Session creates this silo is serving now.");
    }

    public AdmissionOptions Options => _options;

    /// <summary>The measured delay that admission compares with its bounds now.</summary>
    public TimeSpan Delay => TimeSpan.FromTicks(Math.Max(Math.Max(_queueing.Median().Ticks, _creates.Median().Ticks), InFlightAge().Ticks));

    /// <summary>Creates admitted and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Whether a customer is refused last: any priority segment, or an age of <see cref="AdmissionOptions.PriorityAge"/> or more.</summary>
    public bool IsPriority(int? age, int segments) => segments > 0 || age >= _options.PriorityAge;

    /// <summary>Admits a create (the ticket is disposed when its answer is ready, which records how long it took),
    /// or answers null: refuse it.</summary>
    public AdmissionTicket? TryAdmit(bool priority)
    {
        if (!_options.Enabled)
        {
            return new AdmissionTicket(this, _time.GetTimestamp(), counted: false);
        }

        var maxDelay = priority ? _options.PriorityMaxDelay : _options.MaxDelay;
        var maxInFlight = priority ? _options.PriorityMaxCreatesInFlight : _options.MaxCreatesInFlight;
        var delay = Delay;
        if (delay > maxDelay)
        {
            return Refuse(priority, delay, "delay");
        }

        var started = _time.GetTimestamp();
        bool full;
        lock (_inFlightLock)
        {
            full = _inFlight >= maxInFlight;
            if (!full)
            {
                _inFlight++;
                _inFlightStarts += started;
            }
        }

        if (full)
        {
            return Refuse(priority, delay, "in-flight");
        }

        return new AdmissionTicket(this, started, counted: true);
    }

    /// <summary>One sample of the thread pool's queueing delay.</summary>
    internal void RecordQueueing(TimeSpan delay) => _queueing.Record(delay);

    internal void Done(AdmissionTicket ticket)
    {
        _creates.Record(_time.GetElapsedTime(ticket.Started));
        if (ticket.Counted)
        {
            lock (_inFlightLock)
            {
                _inFlight--;
                _inFlightStarts -= ticket.Started;
            }
        }
    }

    /// <summary>How long the creates in flight have waited so far, on average (zero below
    /// <see cref="AdmissionOptions.MinimumSamples"/> of them): a backlog shows here at once, before any of them is
    /// answered and counted among the creates that took long.</summary>
    private TimeSpan InFlightAge()
    {
        long averageStart;
        lock (_inFlightLock)
        {
            if (_inFlight < Math.Max(1, _options.MinimumSamples))
            {
                return TimeSpan.Zero;
            }

            averageStart = _inFlightStarts / _inFlight;
        }

        return _time.GetElapsedTime(averageStart);
    }

    public void Dispose() => _meter?.Dispose();

    private AdmissionTicket? Refuse(bool priority, TimeSpan delay, string bound)
    {
        _refused.Add(1, new KeyValuePair<string, object?>("priority", priority), new KeyValuePair<string, object?>("bound", bound));
        var refused = Interlocked.Increment(ref _refusedSinceLog);

        // One warning per LogEvery at most, with the refusals since the last one: shedding comes and goes many times a
        // second while the silo is at its bound.
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastLog);
        if ((last == 0 || _time.GetElapsedTime(last, now) >= LogEvery) && Interlocked.CompareExchange(ref _lastLog, now, last) == last)
        {
            Interlocked.Add(ref _refusedSinceLog, -refused);
            _logger.AdmissionShedding(refused, bound, delay.TotalMilliseconds, InFlight);
        }

        return null;
    }

    /// <summary>
    /// The median of the last <see cref="Samples"/> delays seen within two windows (zero with fewer than
    /// <paramref name="minimumSamples"/> of them): one stall (a first call, a collection) moves a median little, a
    /// backlog moves it at once, and old samples age out, so admission opens again by itself.
    /// </summary>
    private sealed class DelayWindow(TimeProvider time, TimeSpan window, int minimumSamples)
    {
        public const int Samples = 64;

        private readonly Lock _lock = new();
        private readonly long _maxAge = (long)(2 * window.TotalSeconds * time.TimestampFrequency);
        private readonly long[] _at = new long[Samples];
        private readonly double[] _delay = new double[Samples];
        private readonly double[] _scratch = new double[Samples];
        private int _next;
        private int _count;

        public void Record(TimeSpan delay)
        {
            var now = time.GetTimestamp();
            lock (_lock)
            {
                _at[_next] = now;
                _delay[_next] = delay.TotalSeconds;
                _next = (_next + 1) % Samples;
                _count = Math.Min(_count + 1, Samples);
            }
        }

        public TimeSpan Median()
        {
            var now = time.GetTimestamp();
            lock (_lock)
            {
                var recent = 0;
                for (var i = 0; i < _count; i++)
                {
                    if (now - _at[i] <= _maxAge)
                    {
                        _scratch[recent++] = _delay[i];
                    }
                }

                if (recent < minimumSamples)
                {
                    return TimeSpan.Zero;
                }

                Array.Sort(_scratch, 0, recent);
                return TimeSpan.FromSeconds(_scratch[recent / 2]);
            }
        }
    }
}

/// <summary>An admitted create; disposed when its answer is ready.</summary>
public sealed class AdmissionTicket : IDisposable
{
    private readonly SessionAdmission _admission;
    private int _disposed;

    internal AdmissionTicket(SessionAdmission admission, long started, bool counted)
    {
        _admission = admission;
        Started = started;
        Counted = counted;
    }

    internal long Started { get; }

    internal bool Counted { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _admission.Done(this);
        }
    }
}

/// <summary>Samples the thread pool's queueing delay for <see cref="SessionAdmission"/>: every probe interval a work
/// item is queued, and the time until it runs is the sample.</summary>
public sealed class AdmissionProbe(SessionAdmission admission, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = admission.Options.ProbeInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
                var queued = time.GetTimestamp();
                ThreadPool.UnsafeQueueUserWorkItem(static state => state.Admission.RecordQueueing(state.Time.GetElapsedTime(state.Queued)),
                    (Admission: admission, Time: time, Queued: queued), preferLocal: false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the host is stopping
        }
    }
}

public static class SessionAdmissionHosting
{
    /// <summary>Admission of new sessions (<see cref="SessionAdmission"/>), configured from the <c>Admission</c> section.</summary>
    public static WebApplicationBuilder AddSessionAdmission(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<AdmissionOptions>(builder.Configuration.GetSection(AdmissionOptions.Section));
        builder.Services.AddSingleton<SessionAdmission>();
        builder.Services.AddHostedService<AdmissionProbe>();
        return builder;
    }
}
