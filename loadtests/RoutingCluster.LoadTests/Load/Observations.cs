using System.Collections.Concurrent;
using System.Diagnostics;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>An offer as one desktop received it, and whether that agent's accept was answered ok.</summary>
internal sealed class ObservedOffer(string agentId, OfferNotice notice, long receivedTimestamp)
{
    private volatile bool _accepted;

    public string AgentId => agentId;

    public OfferNotice Notice => notice;

    public long ReceivedTimestamp => receivedTimestamp;

    public bool Accepted
    {
        get => _accepted;
        set => _accepted = value;
    }

    public OfferFact Fact() => new(agentId, notice.OfferedAt, notice.ExpiresAt, _accepted);
}

/// <summary>
/// One session as the driver saw it: when it was due and sent (Stopwatch timestamps), whether the server
/// acknowledged it, and the offers the desktops received. The offer may reach a desktop before the create's
/// answer reaches the gateway, so either side may open the track (by session id).
/// </summary>
internal sealed class SessionTrack(string sessionId)
{
    private readonly List<ObservedOffer> _offers = [];
    private readonly Lock _lock = new();
    private long _firstOfferTimestamp;
    private int _ended;
    private long _endedTimestamp;

    public string SessionId => sessionId;

    /// <summary>The planned session this is (null for an offer of a session this run did not create).</summary>
    public PlannedSession? Plan { get; private set; }

    public long ScheduledTimestamp { get; private set; }

    public long SentTimestamp { get; private set; }

    /// <summary>The server answered 201/200 (false: the create failed, but the session was found afterwards, or
    /// the queue was full and it was refused).</summary>
    public bool Acknowledged { get; private set; }

    /// <summary>When the first offer reached a desktop (0: none yet).</summary>
    public long FirstOfferTimestamp => Interlocked.Read(ref _firstOfferTimestamp);

    /// <summary>How many times an agent's End was answered ok.</summary>
    public int Ended => Volatile.Read(ref _ended);

    /// <summary>When an agent's End was first answered ok (0: never).</summary>
    public long EndedTimestamp => Interlocked.Read(ref _endedTimestamp);

    public void Created(PlannedSession plan, long scheduledTimestamp, long sentTimestamp, bool acknowledged)
    {
        lock (_lock)
        {
            Plan = plan;
            ScheduledTimestamp = scheduledTimestamp;
            SentTimestamp = sentTimestamp;
            Acknowledged = acknowledged;
        }
    }

    public ObservedOffer OfferReceived(string agentId, OfferNotice notice, long receivedTimestamp)
    {
        var offer = new ObservedOffer(agentId, notice, receivedTimestamp);
        Interlocked.CompareExchange(ref _firstOfferTimestamp, receivedTimestamp, 0);
        lock (_lock)
        {
            _offers.Add(offer);
        }

        return offer;
    }

    public void EndedByAgent()
    {
        Interlocked.CompareExchange(ref _endedTimestamp, Stopwatch.GetTimestamp(), 0);
        Interlocked.Increment(ref _ended);
    }

    public IReadOnlyList<OfferFact> Offers()
    {
        lock (_lock)
        {
            return [.. _offers.Select(o => o.Fact())];
        }
    }
}

/// <summary>What the gateway side and the simulated agents of one run record, from any thread.</summary>
internal sealed class Observations(AcceptLog accepts)
{
    public Observations()
        : this(new AcceptLog())
    {
    }

    private const int MaxExamples = 20;

    private readonly ConcurrentQueue<string> _examples = new();
    private readonly ConcurrentDictionary<string, bool> _agentsOverCapacity = new(StringComparer.Ordinal);
    private long _agentViewsChecked;
    private long _missedOffers;
    private int _busyAgents;

    public ConcurrentDictionary<string, SessionTrack> Sessions { get; } = new(StringComparer.Ordinal);

    public LatencyBook Latency { get; } = new();

    /// <summary>When the desktops' accepts were answered ok (shared by every step of a run).</summary>
    public AcceptLog Accepts => accepts;

    public ErrorBook Errors { get; } = new();

    /// <summary>Agents whose view (pushed or read) showed more than their capacity.</summary>
    public IReadOnlyCollection<string> AgentsOverCapacity => [.. _agentsOverCapacity.Keys];

    public long AgentViewsChecked => Interlocked.Read(ref _agentViewsChecked);

    /// <summary>Offers that expired before the agent's accept (the agent was too slow: an outcome, not an error).</summary>
    public long MissedOffers => Interlocked.Read(ref _missedOffers);

    /// <summary>Offers being answered or sessions being talked, right now.</summary>
    public int BusyAgents => Volatile.Read(ref _busyAgents);

    /// <summary>Examples of broken invariants, for the report (the first few).</summary>
    public IReadOnlyList<string> Examples => [.. _examples];

    public SessionTrack Track(string sessionId) => Sessions.GetOrAdd(sessionId, static id => new SessionTrack(id));

    /// <summary>Checks an agent view against its capacity (every view pushed to a desktop, and the final reads).</summary>
    public void CheckAgentView(AgentView view)
    {
        Interlocked.Increment(ref _agentViewsChecked);
        if (Invariants.CapacityProblem(view) is { } problem && _agentsOverCapacity.TryAdd(view.Id, true))
        {
            Example($"over capacity: {problem}");
        }
    }

    public void Example(string text)
    {
        if (_examples.Count < MaxExamples)
        {
            _examples.Enqueue(text);
        }
    }

    public void MissedOffer() => Interlocked.Increment(ref _missedOffers);

    public void AgentBusy() => Interlocked.Increment(ref _busyAgents);

    public void AgentFree() => Interlocked.Decrement(ref _busyAgents);
}
