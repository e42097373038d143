using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Orleans.Streams;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Api;

/// <summary>
/// <c>GET /v1/sessions/{id}/events</c>: server-sent events for the gateway that owns a session, fed from the
/// session's Orleans stream. The first event is the session's current state; the stream ends after the
/// session's terminal event (or when the gateway disconnects). Stream events are best effort; a quiet stream reads
/// the session again, so a lost event delays a gateway by at most <see cref="KeepAliveEvery"/>.
/// </summary>
public static class SessionEventsApi
{
    /// <summary>When nothing happened for this long, the session is read again and, if it did not move on, a
    /// keep-alive goes out, so proxies keep the connection open.</summary>
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);

    public static async Task<IResult> FollowSession(string id, IClusterClient cluster, HttpContext http, CancellationToken cancellationToken)
    {
        var grain = cluster.GetGrain<ISessionGrain>(id);
        var session = await grain.GetAsync();
        if (session is null)
        {
            return Problems.NotFound($"Session '{id}' does not exist.");
        }

        var updates = System.Threading.Channels.Channel.CreateBounded<SessionUpdate>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        var stream = cluster.GetStreamProvider(RoutingStreams.Provider)
            .GetStream<SessionUpdate>(StreamId.Create(RoutingStreams.SessionNamespace, id));
        var subscription = await stream.SubscribeAsync((update, _) => updates.Writer.WriteAsync(update, cancellationToken).AsTask());
        http.Response.RegisterForDisposeAsync(new Unsubscriber(subscription));

        // Read again after subscribing, so nothing that happened in between is missed.
        var current = await grain.GetAsync() ?? session;
        return TypedResults.ServerSentEvents(Events(current, updates.Reader, grain.GetAsync, KeepAliveEvery, cancellationToken));
    }

    /// <summary>
    /// The events of one follower: the session as it is, then its transitions from the stream. Stream events are
    /// best effort (an overloaded stream drops them: EventStream), so whenever the stream has been quiet for
    /// <paramref name="quietFor"/> the session is read again: if it moved on meanwhile, a <c>state</c> event shows it
    /// as it is now (and ends the stream when it is terminal), otherwise a <c>keep-alive</c> goes out. A gateway thus
    /// learns of a lost transition at most <paramref name="quietFor"/> late, and never waits forever for a lost end.
    /// </summary>
    internal static async IAsyncEnumerable<SseItem<object>> Events(
        SessionView current, ChannelReader<SessionUpdate> updates, Func<Task<SessionView?>> readAgain, TimeSpan quietFor,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new SseItem<object>(SessionResponse.From(current), "state") { EventId = "0" };
        if (current.State.IsTerminal())
        {
            yield break;
        }

        // The stream may still deliver updates the snapshot already shows (published before the subscription
        // took effect): those are dropped, so a gateway sees each transition once.
        var shownUpTo = LastChange(current);
        var shownState = current.State;
        var sequence = 0;
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

                yield return new SseItem<object>(new { at = DateTimeOffset.UtcNow }, "keep-alive");
                continue;
            }

            if (update.At < shownUpTo || (update.At == shownUpTo && update.State == shownState))
            {
                continue;
            }

            if (update.Type != SessionEventType.Position)
            {
                // A position is no transition (the queue publishes it, on its own clock): it moves nothing shown.
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

    private sealed class Unsubscriber(StreamSubscriptionHandle<SessionUpdate> subscription) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await subscription.UnsubscribeAsync();
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
