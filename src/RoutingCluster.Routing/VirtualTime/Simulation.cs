using System.Globalization;
using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Queueing;

namespace RoutingCluster.Routing.VirtualTime;

/// <summary>What to simulate: one queue, one skill, voice, c agents with one slot each.</summary>
public sealed record SimulationOptions
{
    public int Agents { get; init; } = 10;

    public double ArrivalsPerSecond { get; init; } = 0.08;

    public double AhtSeconds { get; init; } = 120;

    public int Sessions { get; init; } = 200_000;

    public int Seed { get; init; } = 1;

    /// <summary>Share of sessions with the <c>elderly</c> segment (0 = none).</summary>
    public double ElderlyShare { get; init; }

    /// <summary>The elderly head start configured on the queue (strict, or a number of seconds).</summary>
    public HeadStart ElderlyHeadStart { get; init; } = HeadStart.Strict;

    /// <summary>Mean of the exponential patience; null = customers never abandon.</summary>
    public double? PatienceSeconds { get; init; }

    /// <summary>Share of the sessions (the first ones to arrive) left out of the statistics.</summary>
    public double WarmUpShare { get; init; } = 0.1;

    /// <summary>The service-level threshold.</summary>
    public double ServiceLevelSeconds { get; init; } = 20;

    /// <summary>Number of batches for the batch-means confidence intervals.</summary>
    public int Batches { get; init; } = 20;

    /// <summary>Callbacks are proposed to a customer whose estimated wait at arrival (place × the queue's smoothed time
    /// between offers, as in its position events) is over this many seconds; null: never.</summary>
    public double? CallbackOverSeconds { get; init; }

    /// <summary>Share of the customers proposed a callback who take it (an immediate callback: they leave the line and keep
    /// their place; they do not abandon).</summary>
    public double CallbackTakeUp { get; init; } = 1;

    /// <summary>The queue's own policy (its head starts and agent selection); null: the defaults with
    /// <see cref="ElderlyHeadStart"/>. Its limits on waiting are not simulated.</summary>
    public QueuePolicy? Policy { get; init; }
}

/// <summary>Per-segment figures.</summary>
public sealed record SegmentResult(
    long Offered,
    long Answered,
    long Abandoned,
    double MeanWaitSeconds,
    double MeanWaitCi95Seconds,
    double ProbabilityOfWait,
    double ServiceLevel);

/// <summary>The statistics of one run (sessions after the warm-up only).</summary>
public sealed record SimulationResult
{
    public required long Sessions { get; init; }
    public required long Answered { get; init; }
    public required long Abandoned { get; init; }
    /// <summary>Answered within the threshold / offered (offered includes the abandoned), as the KPI definitions.</summary>
    public required double ServiceLevel { get; init; }
    /// <summary>Answered within the threshold / answered (the other common reading).</summary>
    public required double ServiceLevelOfAnswered { get; init; }
    public required double AsaSeconds { get; init; }
    public required double AbandonRate { get; init; }
    public required double Occupancy { get; init; }
    /// <summary>Share of offered sessions that were not answered at once (waited, or abandoned while waiting).</summary>
    public required double ProbabilityOfWait { get; init; }
    /// <summary>Mean wait of answered sessions, per segment ("elderly", "ordinary").</summary>
    public required IReadOnlyDictionary<string, double> MeanWaitSeconds { get; init; }
    public required IReadOnlyDictionary<string, SegmentResult> Segments { get; init; }
    /// <summary>Ordinary sessions answered after some session that arrived more than the finite elderly head start
    /// after them (0 is the contract; not computed under strict or with no elderly share).</summary>
    public required long OvertakingsBeyondHeadStart { get; init; }
    /// <summary>Largest (later arrival − earlier arrival) over pairs where an ordinary session was answered after a
    /// session that arrived later. At most the head start when the contract holds.</summary>
    public required double MaxOvertakeSeconds { get; init; }
    public required long Events { get; init; }
    public required double SimulatedSeconds { get; init; }
    /// <summary>Measured sessions whose customer took a callback.</summary>
    public long Callbacks { get; init; }
    /// <summary>Mean time the customers spent on the line: their wait (until answered or abandoned), or until they took
    /// a callback. Without callbacks it is the mean wait of all offered sessions.</summary>
    public double MeanTimeOnLineSeconds { get; init; }
    /// <summary>A digest of the order in which the sessions were answered (all of them, warm-up included): two runs that
    /// served the same sessions in the same order have the same digest.</summary>
    public ulong ServiceOrderDigest { get; init; }
}

/// <summary>
/// A discrete-event simulation in virtual time: one priority queue of events, no clocks, no threads. Every routing
/// decision is made by the queue's own <see cref="QueueDispatcher"/>, the code the queue grain runs: the simulation
/// feeds it arrivals, abandons and agents freeing up, and carries out its offers (accepted at once; no wrap-up).
/// </summary>
public sealed class Simulation
{
    private const string QueueId = "sim";
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyDictionary<Channel, int> VoiceOnly = new Dictionary<Channel, int> { [Channel.Voice] = 1 };
    private static readonly IReadOnlyDictionary<Channel, int> Idle = new Dictionary<Channel, int>();
    private static readonly IReadOnlyDictionary<Channel, int> OnCall = new Dictionary<Channel, int> { [Channel.Voice] = 1 };
    private static readonly IReadOnlyList<Segment> Elderly = [Segment.Elderly];
    private static readonly IReadOnlyList<Segment> Ordinary = [];

    private enum Kind : byte { Arrival, Departure, Abandon }

    private enum Fate : byte { Waiting, Answered, Abandoned }

    private readonly SimulationOptions _o;
    private readonly Random _rng;

    /// <summary>Draws for taking a callback, apart from <see cref="_rng"/>, so that a run with callbacks sees the same
    /// arrivals, segments and talk times as the same seed without.</summary>
    private readonly Random _callbackRng;
    private readonly QueuePolicy _policy;
    private readonly QueueDispatcher _dispatcher;
    private readonly AgentSupply[] _agents;
    private readonly PriorityQueue<(Kind Kind, int Index), (double Time, long Seq)> _events = new();
    private readonly Fate[] _fate;
    private readonly double[] _arrival;
    private readonly bool[] _elderly;
    private readonly bool[] _callback;
    private readonly HeadStart _elderlyHeadStart;
    private readonly int _warmUp;
    private long _eventSeq;
    private double _now;

    // Statistics.
    private readonly long[] _offered = new long[2], _answered = new long[2], _abandoned = new long[2], _waited = new long[2], _withinSl = new long[2];
    private readonly double[] _waitSum = new double[2];
    private readonly double[,] _batchWaitSum;
    private readonly long[,] _batchAnswered;
    private int _busy;
    private double _busyTime, _lastChange, _windowStart = double.NaN, _windowEnd = double.NaN;
    private double _maxServedArrival = double.NegativeInfinity;
    private double _maxOvertake;
    private long _overtakings;
    private long _eventCount;
    private long _callbacks;
    private double _onLineSum;
    private ulong _orderDigest = 14695981039346656037UL;

    public Simulation(SimulationOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Agents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Sessions, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ArrivalsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.AhtSeconds);
        _o = options;
        _rng = new Random(options.Seed);
        _callbackRng = new Random(unchecked((options.Seed * 7919) + 17));
        _policy = (options.Policy ?? QueuePolicy.Default with
        {
            HeadStarts = new Dictionary<Segment, HeadStart> { [Segment.Elderly] = options.ElderlyHeadStart },
        }) with
        {
            ServiceLevelSeconds = options.ServiceLevelSeconds,
            MaxWaiting = int.MaxValue,
            MaxWaitSeconds = double.PositiveInfinity,
            OverflowQueueId = null,
        };
        _elderlyHeadStart = Ordering.PriorityPolicy.HeadStartFor(Elderly, _policy.HeadStarts);
        _dispatcher = new QueueDispatcher(QueueId, _policy, new DispatcherSettings(TimeSpan.Zero, 0));
        _fate = new Fate[options.Sessions];
        _arrival = new double[options.Sessions];
        _elderly = new bool[options.Sessions];
        _callback = new bool[options.Sessions];
        _warmUp = (int)(options.Sessions * options.WarmUpShare);
        _batchWaitSum = new double[options.Batches, 2];
        _batchAnswered = new long[options.Batches, 2];
        _agents = new AgentSupply[options.Agents];
        for (var i = 0; i < options.Agents; i++)
        {
            _agents[i] = new AgentSupply
            {
                AgentId = "a" + i.ToString("D5", CultureInfo.InvariantCulture),
                State = AgentState.Ready,
                Queues = [QueueId],
                Capacity = VoiceOnly,
                Active = Idle,
                IdleSince = Epoch,
                Version = 1,
            };
            _dispatcher.AgentChanged(_agents[i], Epoch);
        }

        CarryOut();
    }

    public static SimulationResult Run(SimulationOptions options) => new Simulation(options).Run();

    public SimulationResult Run()
    {
        Schedule(Exponential(1 / _o.ArrivalsPerSecond), Kind.Arrival, 0);
        while (_events.TryDequeue(out var e, out var at))
        {
            _eventCount++;
            Advance(at.Time);
            switch (e.Kind)
            {
                case Kind.Arrival:
                    OnArrival(e.Index);
                    break;
                case Kind.Departure:
                    OnDeparture(e.Index);
                    break;
                case Kind.Abandon:
                    OnAbandon(e.Index);
                    break;
            }
        }

        return Result();
    }

    private void OnArrival(int i)
    {
        _arrival[i] = _now;
        if (i == _warmUp)
        {
            _windowStart = _now;
        }

        if (i == _o.Sessions - 1)
        {
            _windowEnd = _now;
        }
        else
        {
            Schedule(_now + Exponential(1 / _o.ArrivalsPerSecond), Kind.Arrival, i + 1);
        }

        var elderly = _o.ElderlyShare > 0 && _rng.NextDouble() < _o.ElderlyShare;
        _elderly[i] = elderly;
        if (i >= _warmUp)
        {
            _offered[elderly ? 1 : 0]++;
        }

        var demand = new SessionDemand
        {
            SessionId = SessionId(i),
            QueueId = QueueId,
            Channel = Channel.Voice,
            Arrival = At(_now),
            HeadStart = elderly ? _elderlyHeadStart : HeadStart.None,
            Segments = elderly ? Elderly : Ordinary,
            Sequence = i + 1L,
        };
        if (_o.PatienceSeconds is { } patience)
        {
            Schedule(_now + Exponential(patience), Kind.Abandon, i);
        }

        _dispatcher.Arrive(ref demand, isReturn: false, At(_now));
        if (_fate[i] == Fate.Waiting && _o.CallbackOverSeconds is { } bound && _dispatcher.SecondsPerOffer is { } pace
            && pace * _dispatcher.WaitingCount > bound && _callbackRng.NextDouble() < _o.CallbackTakeUp)
        {
            // Proposed a callback (its estimated wait is over the bound) and took it: off the line, at its place.
            _dispatcher.RequestCallback(demand.SessionId, null, At(_now));
            _callback[i] = true;
            if (i >= _warmUp)
            {
                _callbacks++;
            }
        }

        CarryOut();
    }

    private void OnDeparture(int agentIndex)
    {
        var agent = _agents[agentIndex] = _agents[agentIndex] with
        {
            Active = Idle,
            IdleSince = At(_now),
            Version = _agents[agentIndex].Version + 1,
        };
        SetBusy(-1);
        _dispatcher.AgentChanged(agent, At(_now));
        CarryOut();
    }

    private void OnAbandon(int i)
    {
        if (_fate[i] != Fate.Waiting || _callback[i])
        {
            return; // answered already, or off the line waiting for its callback
        }

        _dispatcher.Leave(SessionId(i));
        _fate[i] = Fate.Abandoned;
        if (i >= _warmUp)
        {
            var s = _elderly[i] ? 1 : 0;
            _abandoned[s]++;
            _waited[s]++;
            _onLineSum += _now - _arrival[i];
        }
    }

    /// <summary>Carries out the dispatcher's decisions until it has none left: each offer is accepted at once.</summary>
    private void CarryOut()
    {
        for (var decisions = _dispatcher.TakeDecisions(); decisions.Count > 0; decisions = _dispatcher.TakeDecisions())
        {
            foreach (var decision in decisions)
            {
                if (decision is not OfferDecision offer)
                {
                    throw new InvalidOperationException($"unexpected decision {decision} (no max wait, no position updates here)");
                }

                var agentIndex = int.Parse(offer.AgentId.AsSpan(1), CultureInfo.InvariantCulture);
                Connect(offer.Session, _agents[agentIndex]);
                _dispatcher.AttemptDone(offer.Session, offer.AgentId, AttemptOutcome.Offered, _agents[agentIndex], At(_now));
            }
        }
    }

    private void Connect(SessionDemand session, AgentSupply agent)
    {
        var i = (int)(session.Sequence - 1);
        if (_fate[i] != Fate.Waiting)
        {
            throw new InvalidOperationException($"{session.SessionId} answered twice");
        }

        _fate[i] = Fate.Answered;
        var agentIndex = int.Parse(agent.AgentId.AsSpan(1), CultureInfo.InvariantCulture);
        if (agent.ActiveTotal != 0)
        {
            throw new InvalidOperationException($"{agent.AgentId} is not free");
        }

        _agents[agentIndex] = agent with { Active = OnCall, Version = agent.Version + 1 };
        SetBusy(+1);
        Schedule(_now + Exponential(_o.AhtSeconds), Kind.Departure, agentIndex);

        var wait = _now - _arrival[i];
        var elderly = _elderly[i];
        _orderDigest = unchecked((_orderDigest ^ (ulong)i) * 1099511628211UL);
        if (!elderly)
        {
            // Overtaking: this ordinary session is answered after a session that arrived later.
            if (_maxServedArrival > _arrival[i])
            {
                var lead = _maxServedArrival - _arrival[i];
                _maxOvertake = Math.Max(_maxOvertake, lead);
                if (!_elderlyHeadStart.IsStrict && _o.ElderlyShare > 0 && lead > _elderlyHeadStart.Seconds)
                {
                    _overtakings++;
                }
            }
        }

        _maxServedArrival = Math.Max(_maxServedArrival, _arrival[i]);
        if (i < _warmUp)
        {
            return;
        }

        var s = elderly ? 1 : 0;
        _answered[s]++;
        _waitSum[s] += wait;
        _onLineSum += _callback[i] ? 0 : wait;
        if (wait > 0)
        {
            _waited[s]++;
        }

        if (wait <= _o.ServiceLevelSeconds)
        {
            _withinSl[s]++;
        }

        var batch = (int)((long)(i - _warmUp) * _o.Batches / (_o.Sessions - _warmUp));
        _batchWaitSum[batch, s] += wait;
        _batchAnswered[batch, s]++;
    }

    private void SetBusy(int delta)
    {
        _busy += delta;
    }

    /// <summary>Moves the clock, integrating busy agent-time over the measurement window [first measured arrival, last arrival].</summary>
    private void Advance(double time)
    {
        if (!double.IsNaN(_windowStart))
        {
            var from = Math.Max(_lastChange, _windowStart);
            var to = double.IsNaN(_windowEnd) ? time : Math.Min(time, _windowEnd);
            if (to > from)
            {
                _busyTime += _busy * (to - from);
            }
        }

        _lastChange = time;
        _now = time;
    }

    private void Schedule(double time, Kind kind, int index) => _events.Enqueue((kind, index), (time, _eventSeq++));

    private double Exponential(double mean) => -Math.Log(1 - _rng.NextDouble()) * mean;

    private static DateTimeOffset At(double seconds) => Epoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    private static string SessionId(int i) => "s" + i.ToString(CultureInfo.InvariantCulture);

    private SimulationResult Result()
    {
        var offered = _offered[0] + _offered[1];
        var answered = _answered[0] + _answered[1];
        var abandoned = _abandoned[0] + _abandoned[1];
        var within = _withinSl[0] + _withinSl[1];
        var window = _windowEnd - _windowStart;
        var segments = new Dictionary<string, SegmentResult>();
        var means = new Dictionary<string, double>();
        foreach (var (name, s) in new[] { ("ordinary", 0), ("elderly", 1) })
        {
            if (_offered[s] == 0)
            {
                continue;
            }

            var mean = Ratio(_waitSum[s], _answered[s]);
            means[name] = mean;
            segments[name] = new SegmentResult(_offered[s], _answered[s], _abandoned[s], mean, BatchHalfWidth(s),
                Ratio(_waited[s], _offered[s]), Ratio(_withinSl[s], _offered[s]));
        }

        return new SimulationResult
        {
            Sessions = offered,
            Answered = answered,
            Abandoned = abandoned,
            ServiceLevel = Ratio(within, offered),
            ServiceLevelOfAnswered = Ratio(within, answered),
            AsaSeconds = Ratio(_waitSum[0] + _waitSum[1], answered),
            AbandonRate = Ratio(abandoned, offered),
            Occupancy = window > 0 ? _busyTime / (window * _o.Agents) : 0,
            ProbabilityOfWait = Ratio(_waited[0] + _waited[1], offered),
            MeanWaitSeconds = means,
            Segments = segments,
            OvertakingsBeyondHeadStart = _overtakings,
            MaxOvertakeSeconds = _maxOvertake,
            Events = _eventCount,
            SimulatedSeconds = _now,
            Callbacks = _callbacks,
            MeanTimeOnLineSeconds = Ratio(_onLineSum, offered),
            ServiceOrderDigest = _orderDigest,
        };
    }

    /// <summary>95% half-width of a segment's mean wait by batch means (batches of consecutive arrivals).</summary>
    private double BatchHalfWidth(int s)
    {
        var n = _o.Batches;
        if (n < 2)
        {
            return double.NaN;
        }

        var means = new double[n];
        for (var b = 0; b < n; b++)
        {
            means[b] = Ratio(_batchWaitSum[b, s], _batchAnswered[b, s]);
        }

        var avg = means.Average();
        var variance = means.Sum(m => (m - avg) * (m - avg)) / (n - 1);
        // Student t, 0.975 quantile: close enough to 2.09 for 20 batches; 1.96 for many.
        var t = n switch { <= 10 => 2.262, <= 20 => 2.093, <= 30 => 2.045, _ => 1.96 };
        return t * Math.Sqrt(variance / n);
    }

    private static double Ratio(double a, double b) => b > 0 ? a / b : 0;
}
