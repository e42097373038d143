using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Api;

/// <summary>
/// <c>GET /v1/sessions/{id}/events</c>: server-sent events for the gateway that owns a session. The gateway's silo
/// registers a follower with the session grain (<see cref="ISessionGrain.FollowAsync"/>), which answers the session as it
/// is and pushes each transition from then on; the first event is that state, and the stream ends after the session's
/// terminal event (or when the gateway disconnects, which unregisters the follower). Pushes are best effort; a quiet
/// stream follows the session again (renewing the follower's lease) and reads it, so a lost event delays a gateway by at
/// most <see cref="KeepAliveEvery"/>.
/// </summary>
public static class SessionEventsApi
{
    /// <summary>When nothing happened for this long, the session is followed and read again and, if it did not move on,
    /// a keep-alive goes out, so proxies keep the connection open. Also how often the follower's lease is renewed.</summary>
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);

    /// <summary>How many events a follower holds for a gateway that reads slowly; beyond this the oldest are dropped
    /// (and counted).</summary>
    private const int Backlog = 256;

    /// <summary>How long a caller at its limit of open streams is told to wait before trying again.</summary>
    public const int StreamLimitRetryAfterSeconds = 5;

    public static async Task<IResult> FollowSession(string id, IClusterClient cluster, RoutingGrains grains, EventDrops drops, Access.EventStreamLimits limits,
        HttpContext http, CancellationToken cancellationToken)
    {
        if (limits.TryOpen(http.User, out var caller) is not { } place)
        {
            http.Response.Headers.RetryAfter = StreamLimitRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                detail: $"{caller} holds {limits.Limit} event streams open on this silo already, the most it may; close one first.");
        }

        http.Response.RegisterForDisposeAsync(place);
        var grain = grains.Session(id);
        var updates = System.Threading.Channels.Channel.CreateBounded<SessionUpdate>(
            new BoundedChannelOptions(Backlog) { FullMode = BoundedChannelFullMode.DropOldest },
            _ => drops.Dropped(SessionFollower.Kind, new InvalidOperationException($"A follower's backlog of {Backlog} events is full.")));
        var follower = new SessionFollower(updates.Writer);
        var reference = cluster.CreateObjectReference<ISessionFollower>(follower);
        var registration = new Registration(cluster, grain, reference, follower);

        // Registered before the session is read: nothing that happens after the read is missed.
        var session = await grain.FollowAsync(reference);
        if (session is null)
        {
            await registration.DisposeAsync();
            return Problems.NotFound($"Session '{id}' does not exist.");
        }

        http.Response.RegisterForDisposeAsync(registration);
        return TypedResults.ServerSentEvents(Events(session, updates.Reader, () => grain.FollowAsync(reference), KeepAliveEvery, cancellationToken));
    }

    /// <summary>
    /// The events of one follower: the session as it is, then its transitions as the session pushes them. Pushes are
    /// best effort (a follower that cannot keep up drops the oldest), so whenever the stream has been quiet for
    /// <paramref name="quietFor"/> the session is read again (<paramref name="readAgain"/>, which also renews the follower): if it moved on meanwhile, a <c>state</c> event shows it
    /// as it is now (and ends the stream when it is terminal), otherwise a <c>keep-alive</c> goes out. A gateway thus
    /// learns of a lost transition at most <paramref name="quietFor"/> late, and never waits forever for a lost end.
    /// </summary>
    internal static async IAsyncEnumerable<SseItem<object>> Events(
        SessionView current, ChannelReader<SessionUpdate> updates, Func<Task<SessionView?>> readAgain, TimeSpan quietFor,
        [EnumeratorCancellation] CancellationToken cancellationToken, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        yield return new SseItem<object>(SessionResponse.From(current), "state") { EventId = "0" };
        if (current.State.IsTerminal())
        {
            yield break;
        }

        // Pushes may still bring updates the snapshot already shows (pushed before the answer to the follow arrived):
        // those are dropped, so a gateway sees each transition once.
        var shownUpTo = LastChange(current);
        var shownState = current.State;
        var sequence = 0;
        var followedAt = time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(quietFor);
            SessionUpdate? update = null;
            try
            {
                update = await updates.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Nothing happened for a while: read the session again below.
            }

            if (update is null)
            {
                followedAt = time.GetTimestamp();
                var latest = await readAgain();
                if (latest is not null && (latest.State != shownState || LastChange(latest) > shownUpTo))
                {
                    shownUpTo = LastChange(latest);
                    shownState = latest.State;
                    yield return new SseItem<object>(SessionResponse.From(latest), "state") { EventId = Next(ref sequence) };
                    if (latest.State.IsTerminal())
                    {
                        yield break;
                    }

                    continue;
                }

                yield return new SseItem<object>(new { at = time.GetUtcNow() }, "keep-alive");
                continue;
            }

            if (time.GetElapsedTime(followedAt) >= quietFor)
            {
                // Events keep coming (places in the queue), so the stream is never quiet: the follower's lease is renewed
                // all the same. What the read shows the pushes show too.
                followedAt = time.GetTimestamp();
                await readAgain();
            }

            if (update.At < shownUpTo || (update.At == shownUpTo && update.State == shownState))
            {
                continue;
            }

            if (update.Type != SessionEventType.Position)
            {
                // A position is no transition (the queue tells it, on its own clock): it moves nothing shown.
                shownUpTo = update.At;
                shownState = update.State;
            }

            yield return new SseItem<object>(SessionEventResponse.From(update), WireNames<SessionEventType>.Of(update.Type)) { EventId = Next(ref sequence) };
            if (update.State.IsTerminal())
            {
                yield break;
            }
        }
    }

    private static DateTimeOffset LastChange(SessionView session) => session.History.Count > 0 ? session.History[^1].At : session.CreatedAt;

    private static string Next(ref int sequence) => (++sequence).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>This silo's end of one follow: the session grain pushes here, and the pushes wait for the gateway.</summary>
    private sealed class SessionFollower(ChannelWriter<SessionUpdate> updates) : ISessionFollower
    {
        public const string Kind = "session";

        public Task OnSessionUpdateAsync(SessionUpdate update)
        {
            updates.TryWrite(update);
            return Task.CompletedTask;
        }
    }

    /// <summary>Ends a follow: the session forgets the follower (one-way) and the silo its object reference.</summary>
    /// <remarks>Holds the follower itself too: the silo keeps only a weak reference to an observer.</remarks>
    private sealed class Registration(IClusterClient cluster, ISessionGrain grain, ISessionFollower reference, SessionFollower follower) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await grain.UnfollowAsync(reference);
            cluster.DeleteObjectReference<ISessionFollower>(reference);
            GC.KeepAlive(follower);
        }
    }
}

/// <summary>One event of a session's stream as gateways receive it (times in UTC, like the rest of the API).
/// <c>callbackProposed</c> is given on position events (true while the queue proposes a callback), <c>kind</c> on offered
/// events (inbound or callback); both are null on the others.</summary>
public sealed record SessionEventResponse(
    string SessionId, SessionEventType Type, SessionState State, string QueueId, string? AgentId, DateTime At, int? Position, double? EstimatedWaitSeconds,
    bool? CallbackProposed = null, OfferKind? Kind = null)
{
    public static SessionEventResponse From(SessionUpdate u) =>
        new(u.SessionId, u.Type, u.State, u.QueueId, u.AgentId, Wire.Utc(u.At), u.Position, u.EstimatedWaitSeconds,
            u.Type == SessionEventType.Position ? u.CallbackProposed : null, u.Kind);
}
