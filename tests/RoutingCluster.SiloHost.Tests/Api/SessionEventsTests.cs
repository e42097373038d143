using System.Net.ServerSentEvents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.SiloHost.Api.Contracts;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// The server-sent events of a followed session when its stream loses events (an overloaded stream drops them):
/// a quiet stream reads the session again, so the gateway still learns what happened and the stream still ends.
/// </summary>
public sealed class SessionEventsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task LostEnd_IsShownByAStateEventOnceTheStreamIsQuiet_AndTheStreamEnds()
    {
        var updates = System.Threading.Channels.Channel.CreateUnbounded<SessionUpdate>();
        updates.Writer.TryWrite(Update(SessionEventType.Offered, SessionState.Offered, 2));

        // The connected, ended and completed events were lost: the session is completed when read again.
        var completed = View(SessionState.Completed, (SessionState.Queued, 0), (SessionState.Offered, 2), (SessionState.Connected, 3),
            (SessionState.WrapUp, 60), (SessionState.Completed, 70));
        var events = await ReadAll(SessionEventsApi.Events(View(SessionState.Queued, (SessionState.Queued, 0)), updates.Reader,
            () => Task.FromResult<SessionView?>(completed), Quiet, Timeout()));

        Assert.Equal(["state", "offered", "state"], events.Select(e => e.EventType).ToArray());
        Assert.Equal(["0", "1", "2"], events.Select(e => e.EventId ?? "").ToArray());
        var last = Assert.IsType<SessionResponse>(events[^1].Data);
        Assert.Equal(SessionState.Completed, last.State);
    }

    [Fact]
    public async Task QuietStream_WhenNothingWasLost_SendsKeepAlives_NotTheStateAgain()
    {
        var updates = System.Threading.Channels.Channel.CreateUnbounded<SessionUpdate>();
        updates.Writer.TryWrite(Update(SessionEventType.Offered, SessionState.Offered, 2));
        var offered = View(SessionState.Offered, (SessionState.Queued, 0), (SessionState.Offered, 2));
        using var stop = new CancellationTokenSource();
        var names = new List<string>();
        await foreach (var e in SessionEventsApi.Events(View(SessionState.Queued, (SessionState.Queued, 0)), updates.Reader,
            () => Task.FromResult<SessionView?>(offered), Quiet, stop.Token))
        {
            names.Add(e.EventType);
            if (names.Count == 4)
            {
                break;
            }
        }

        Assert.Equal(["state", "offered", "keep-alive", "keep-alive"], names.ToArray());
    }

    [Fact]
    public async Task EventLateFromTheStream_AfterTheStateShowedIt_IsNotRepeated()
    {
        var updates = System.Threading.Channels.Channel.CreateUnbounded<SessionUpdate>();
        var offered = View(SessionState.Offered, (SessionState.Queued, 0), (SessionState.Offered, 2));
        var reads = 0;
        Task<SessionView?> ReadAgain()
        {
            if (++reads == 1)
            {
                // The stream was slow, not lossy: the offer shows when read again, then its event arrives after all.
                updates.Writer.TryWrite(Update(SessionEventType.Offered, SessionState.Offered, 2));
                updates.Writer.TryWrite(Update(SessionEventType.Abandoned, SessionState.Abandoned, 5));
            }

            return Task.FromResult<SessionView?>(offered);
        }

        var events = await ReadAll(SessionEventsApi.Events(View(SessionState.Queued, (SessionState.Queued, 0)), updates.Reader,
            ReadAgain, Quiet, Timeout()));

        Assert.Equal(["state", "state", "abandoned"], events.Select(e => e.EventType).ToArray());
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token;

    private static async Task<List<SseItem<object>>> ReadAll(IAsyncEnumerable<SseItem<object>> events)
    {
        var all = new List<SseItem<object>>();
        await foreach (var e in events)
        {
            all.Add(e);
        }

        return all;
    }

    private static SessionUpdate Update(SessionEventType type, SessionState state, int second) => new()
    {
        SessionId = "s1",
        Type = type,
        State = state,
        QueueId = "cards",
        AgentId = state == SessionState.Queued ? null : "a1",
        At = T0.AddSeconds(second),
    };

    private static SessionView View(SessionState state, params (SessionState State, int Second)[] history) => new()
    {
        Id = "s1",
        State = state,
        QueueId = "cards",
        Channel = RoutingCluster.Routing.Model.Channel.Voice,
        CreatedAt = T0,
        History = history.Select(h => new SessionEvent(h.State, T0.AddSeconds(h.Second), "cards", h.State == SessionState.Queued ? null : "a1")).ToList(),
    };
}
