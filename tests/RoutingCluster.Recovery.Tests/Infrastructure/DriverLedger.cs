using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>
/// What a test's driver did and got back, on its own clock, per session: every request that succeeded, with the
/// moment it was sent and the moment its answer came back. The statistics the product reports are checked against
/// the counts and the figures computed here, with the test's own formulas, never the product's.
/// </summary>
/// <remarks>
/// The product stamps each step somewhere between the sending of the request that caused it and the arrival of its
/// answer (the same clock: one machine). So a count is exact, and a duration is known within bounds: at least from
/// the answer of the step that started it to the sending of the step that ended it, at most from the sending of the
/// first to the answer of the second.
/// </remarks>
public sealed class DriverLedger
{
    private static readonly long BucketTicks = TimeSpan.FromMinutes(15).Ticks;

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Queue, Window At)> _refusedOutright = new();
    private readonly ConcurrentQueue<string> _failures = new();

    /// <summary>From the sending of a request to the arrival of its answer.</summary>
    public readonly record struct Window(DateTimeOffset Sent, DateTimeOffset Answered);

    /// <summary>An agent's successful accept of an offer from <paramref name="Queue"/>.</summary>
    public sealed record Answer(string Queue, Window At);

    /// <summary>A callback the driver asked for in <paramref name="Queue"/> and was granted (200), with what the answer
    /// showed (<c>callback.requestedAt</c>, <c>callback.at</c>).</summary>
    public sealed record Callback(string Queue, Window At, ObservedCallback Observed);

    /// <summary>Requests of the run that failed: a transport error, a timeout, a 5xx or an answer the driver does
    /// not expect. (A 409 that says the moment has passed, an offer already gone, a full queue, is an answer.)</summary>
    public IReadOnlyCollection<string> Failures => _failures;

    public int Created => _sessions.Count;

    public int RefusedOutright => _refusedOutright.Count;

    public int RefusedIntoOverflow => _sessions.Values.Count(s => s.Queue != s.RequestedQueue);

    public int Answered => _sessions.Values.Sum(s => s.Count(x => x.Answers.Count));

    public int Abandoned => _sessions.Values.Sum(s => s.Count(x => x.Abandon is null ? 0 : 1));

    public int Transferred => _sessions.Values.Sum(s => s.Count(x => x.Transfers.Count));

    public int Ended => _sessions.Values.Sum(s => s.Count(x => x.Ends));

    /// <summary>Callbacks granted in <paramref name="queue"/> (all queues when null).</summary>
    public int Callbacks(string? queue) => _sessions.Values.Sum(s => s.Count(x => x.Callbacks.Count(c => queue is null || c.Queue == queue)));

    /// <summary>Answers in <paramref name="queue"/> (all queues when null) of a stay whose customer had asked to be called back.</summary>
    public int CallbacksAnswered(string? queue) =>
        _sessions.Values.Sum(s => s.Count(x => x.Answers.Count(a => (queue is null || a.Queue == queue) && x.CallbackOf(a) is not null)));

    /// <summary>The callbacks of a session as its gateway was answered, for <see cref="StoredSession.Callbacks"/>.</summary>
    public IReadOnlyList<ObservedCallback> CallbacksOf(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var session) ? session.Read(x => x.Callbacks.Select(c => c.Observed).ToList()) : [];

    public IReadOnlyCollection<string> SessionIds => [.. _sessions.Keys];

    /// <summary>How many times the driver placed a session in <paramref name="queue"/> (all queues when null): each
    /// create it got back 201 for, in the queue of its answer, and each transfer.</summary>
    public int Placements(string? queue) => _sessions.Values.Sum(s => s.Count(x => x.Placements.Count(p => queue is null || p.Queue == queue)));

    public static DateTimeOffset Now => DateTimeOffset.UtcNow;

    public void Fail(string what) => _failures.Enqueue(what);

    /// <summary>A create answered 201 (or 200 for a retry of it): the session waits in the queue of <paramref name="view"/>.</summary>
    public void NoteCreated(string requestedQueue, JsonNode view, Window at)
    {
        var session = new Session(requestedQueue, HostApi.Str(view, "queueId"), at);
        session.Placements.Add((session.Queue, at));
        _sessions[HostApi.Str(view, "id")] = session;
    }

    /// <summary>A create refused with 409 queue-full (the queue and its overflow queue were full).</summary>
    public void NoteRefused(string requestedQueue, Window at) => _refusedOutright.Enqueue((requestedQueue, at));

    public void NoteAccepted(string sessionId, string queue, Window at) => Update(sessionId, s => s.Answers.Add(new Answer(queue, at)));

    public void NoteTransferred(string sessionId, string toQueue, Window at) => Update(sessionId, s =>
    {
        s.Transfers.Add((toQueue, at));
        s.Placements.Add((toQueue, at));
    });

    public void NoteAbandoned(string sessionId, string queue, Window at) => Update(sessionId, s => s.Abandon = (queue, at));

    /// <summary>A callback request answered 200 (the same request again changes nothing, and is noted once).</summary>
    public void NoteCallback(string sessionId, string queue, Window at, ObservedCallback observed) => Update(sessionId, s =>
    {
        if (!s.Callbacks.Any(c => c.Observed == observed))
        {
            s.Callbacks.Add(new Callback(queue, at, observed));
        }
    });

    public void NoteEnded(string sessionId) => Update(sessionId, s => s.Ends++);

    /// <summary>The 15-minute interval that holds <paramref name="time"/> (UTC, aligned on the hour).</summary>
    public static DateTimeOffset Bucket(DateTimeOffset time)
    {
        var utc = time.UtcTicks;
        return new DateTimeOffset(utc - (utc % BucketTicks), TimeSpan.Zero);
    }

    public static string BucketKey(DateTimeOffset bucket) => bucket.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// The driver's own counts of one kind (per queue, or all queues when <paramref name="queue"/> is null), each with
    /// the window within which the product stamped it: offered (the create or the transfer that placed it), answered
    /// (from the stay's start to the accept), abandoned (from the stay's start to the abandon) and refused (the create).
    /// </summary>
    public IReadOnlyList<Window> Events(string kind, string? queue)
    {
        var events = new List<Window>();
        foreach (var session in _sessions.Values)
        {
            lock (session)
            {
                switch (kind)
                {
                    case "answered":
                        events.AddRange(session.Answers.Where(a => queue is null || a.Queue == queue).Select(a => new Window(session.StayStart(a.Queue, a.At).Sent, a.At.Answered)));
                        break;
                    case "abandoned" when session.Abandon is { } abandon && (queue is null || abandon.Queue == queue):
                        events.Add(new Window(session.StayStart(abandon.Queue, abandon.At).Sent, abandon.At.Answered));
                        break;
                    case "offered":
                        events.AddRange(session.Placements.Where(p => queue is null || p.Queue == queue).Select(p => p.At));
                        break;
                    case "refused" when session.Queue != session.RequestedQueue && (queue is null || session.RequestedQueue == queue):
                        events.Add(session.CreatedAt);
                        break;
                }
            }
        }

        if (kind == "refused" && queue is null)
        {
            events.AddRange(_refusedOutright.Select(r => r.At));
        }

        return events;
    }

    /// <summary>
    /// Bounds on the speed of answer of every answer in <paramref name="queue"/> (all queues when null), in seconds:
    /// from the answer of the request that placed the session in that queue to the sending of the accept, at least; from
    /// its sending to the accept's answer, at most. A stay the driver did not start (an overflow from another queue
    /// after its maximum wait) is known only from above. A scheduled callback waited from its time (<c>callback.at</c>,
    /// which the driver chose): from then to the sending of the accept, at least, and to its answer, at most.
    /// </summary>
    public IReadOnlyList<(double Min, double Max)> SpeedsOfAnswer(string? queue)
    {
        var speeds = new List<(double, double)>();
        foreach (var session in _sessions.Values)
        {
            lock (session)
            {
                foreach (var answer in session.Answers.Where(a => queue is null || a.Queue == queue))
                {
                    if (session.CallbackOf(answer)?.Observed.At is { } scheduled)
                    {
                        speeds.Add((Math.Max(0, (answer.At.Sent - scheduled).TotalSeconds), (answer.At.Answered - scheduled).TotalSeconds));
                        continue;
                    }

                    var (start, known) = session.Stay(answer.Queue, answer.At);
                    var max = (answer.At.Answered - start.Sent).TotalSeconds;
                    var min = known ? Math.Max(0, (answer.At.Sent - start.Answered).TotalSeconds) : 0;
                    speeds.Add((min, max));
                }
            }
        }

        return speeds;
    }

    private void Update(string sessionId, Action<Session> change)
    {
        if (!_sessions.TryGetValue(sessionId, out var session))
        {
            Fail($"session {sessionId} was never created by the driver");
            return;
        }

        lock (session)
        {
            change(session);
        }
    }

    private sealed class Session(string requestedQueue, string queue, Window createdAt)
    {
        public string RequestedQueue { get; } = requestedQueue;

        /// <summary>The queue the create placed it in: the requested one, or its overflow queue when that was full.</summary>
        public string Queue { get; } = queue;

        public Window CreatedAt { get; } = createdAt;

        /// <summary>Where the driver placed it (create, transfers), in order.</summary>
        public List<(string Queue, Window At)> Placements { get; } = [];

        public List<Answer> Answers { get; } = [];

        public List<(string Queue, Window At)> Transfers { get; } = [];

        public (string Queue, Window At)? Abandon { get; set; }

        public List<Callback> Callbacks { get; } = [];

        public int Ends { get; set; }

        public int Count(Func<Session, int> part) => Read(part);

        public T Read<T>(Func<Session, T> part)
        {
            lock (this)
            {
                return part(this);
            }
        }

        /// <summary>The start of the stay in <paramref name="queue"/> that ended at <paramref name="end"/>, and whether
        /// the driver started it (false: the session overflowed there from the queue the driver placed it in).</summary>
        public (Window Start, bool Known) Stay(string queue, Window end)
        {
            var last = Placements.Where(p => p.At.Sent <= end.Sent).DefaultIfEmpty(Placements[0]).Last();
            return (last.At, last.Queue == queue);
        }

        public Window StayStart(string queue, Window end) => Stay(queue, end).Start;

        /// <summary>The callback asked for in the stay that <paramref name="answer"/> answered, if any.</summary>
        public Callback? CallbackOf(Answer answer) =>
            Callbacks.FirstOrDefault(c => c.Queue == answer.Queue && StayIndex(c.At) == StayIndex(answer.At));

        /// <summary>Which of the driver's placements the session was in when <paramref name="at"/> was sent.</summary>
        private int StayIndex(Window at) => Math.Max(0, Placements.FindLastIndex(p => p.At.Sent <= at.Sent));
    }
}
