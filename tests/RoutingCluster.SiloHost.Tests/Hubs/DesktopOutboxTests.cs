using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Time.Testing;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Hubs;

namespace RoutingCluster.SiloHost.Tests.Hubs;

/// <summary>The outbox remembers when it put an offer on an agent's desktops, and that it never did for an offer
/// that expired while it waited to be sent: what an expiring offer's agent grain asks before holding a miss against
/// the agent.</summary>
public sealed class DesktopOutboxTests
{
    private static readonly DateTimeOffset Eight = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task AnOfferSent_IsShownAtTheTimeItWentOut_AnExpiredOneIsNeverSent_NorShown()
    {
        var time = new FakeTimeProvider(Eight);
        var hub = new RecordingHub();
        var outbox = new DesktopOutbox(hub, new RoutingClock(time));

        time.Advance(TimeSpan.FromSeconds(2));
        outbox.Post(Offer("a-1", "s-fresh", offeredAt: Eight, expiresAt: Eight.AddSeconds(15)), ["conn-1"]);
        outbox.Post(Offer("a-2", "s-stale", offeredAt: Eight.AddSeconds(-20), expiresAt: Eight.AddSeconds(-5)), ["conn-2"]);
        await hub.WaitForSends(1);
        await Task.Delay(100);

        Assert.Equal(Eight.AddSeconds(2), outbox.ShownAt("a-1", "s-fresh"));
        Assert.Null(outbox.ShownAt("a-2", "s-stale"));
        Assert.Null(outbox.ShownAt("a-1", "s-never-offered"));
        Assert.Equal(["offer"], hub.Sent);
    }

    [Fact]
    public async Task AnOfferIsRemembered_UntilAMinuteAfterItExpired_ThenForgotten()
    {
        var time = new FakeTimeProvider(Eight);
        var hub = new RecordingHub();
        var outbox = new DesktopOutbox(hub, new RoutingClock(time));

        time.Advance(TimeSpan.FromSeconds(2));
        outbox.Post(Offer("a-1", "s-1", offeredAt: Eight, expiresAt: Eight.AddSeconds(15)), ["conn-1"]);
        await hub.WaitForSends(1);

        // 59 s after the first offer expired another one goes out (and the outbox forgets what has run out).
        time.Advance(TimeSpan.FromSeconds(72));
        outbox.Post(Offer("a-1", "s-2", offeredAt: Eight.AddSeconds(74), expiresAt: Eight.AddSeconds(89)), ["conn-1"]);
        await hub.WaitForSends(1);
        await Task.Delay(100);
        Assert.Equal(Eight.AddSeconds(2), outbox.ShownAt("a-1", "s-1"));

        // 61 s later: the first is forgotten, the second (expired 46 s ago) still remembered.
        time.Advance(TimeSpan.FromSeconds(61));
        outbox.Post(Offer("a-1", "s-3", offeredAt: Eight.AddSeconds(135), expiresAt: Eight.AddSeconds(150)), ["conn-1"]);
        await hub.WaitForSends(1);
        await Task.Delay(100);
        Assert.Null(outbox.ShownAt("a-1", "s-1"));
        Assert.Equal(Eight.AddSeconds(74), outbox.ShownAt("a-1", "s-2"));
    }

    [Fact]
    public async Task AnUpdate_GoesToEachOfTheAgentsConnections_ByItsId_Once()
    {
        var time = new FakeTimeProvider(Eight);
        var hub = new RecordingHub();
        var outbox = new DesktopOutbox(hub, new RoutingClock(time));

        outbox.Post(Offer("a-1", "s-1", offeredAt: Eight, expiresAt: Eight.AddSeconds(15)), ["conn-1", "conn-2"]);
        await hub.WaitForSends(2);
        await Task.Delay(100);

        Assert.Equal(["conn-1:offer", "conn-2:offer"], hub.SentTo);
    }

    private static AgentUpdate Offer(string agentId, string sessionId, DateTimeOffset offeredAt, DateTimeOffset expiresAt) => new()
    {
        AgentId = agentId,
        Type = AgentEventType.Offer,
        Agent = new AgentView { Id = agentId, State = AgentState.Ready, StateSince = offeredAt },
        Offer = new OfferNotice { SessionId = sessionId, Channel = Channel.Voice, QueueId = "cards", WaitedSeconds = 0, OfferedAt = offeredAt, ExpiresAt = expiresAt },
        SessionId = sessionId,
        At = offeredAt,
    };

    private sealed class RecordingHub : IHubContext<AgentHub>
    {
        private readonly RecordingClients _clients = new();

        public IReadOnlyList<string> Sent => _clients.Sent;

        public IReadOnlyList<string> SentTo => _clients.SentTo;

        public IHubClients Clients => _clients;

        public IGroupManager Groups => throw new NotSupportedException();

        public Task WaitForSends(int count) => _clients.WaitForSends(count);
    }

    private sealed class RecordingClients : IHubClients, IClientProxy
    {
        private readonly List<string> _sent = [];
        private readonly List<string> _sentTo = [];
        private readonly SemaphoreSlim _signal = new(0);

        public IReadOnlyList<string> Sent
        {
            get
            {
                lock (_sent)
                {
                    return [.. _sent];
                }
            }
        }

        /// <summary>"connection:method" for each send to one connection by its id.</summary>
        public IReadOnlyList<string> SentTo
        {
            get
            {
                lock (_sent)
                {
                    return [.. _sentTo];
                }
            }
        }

        public async Task WaitForSends(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.True(await _signal.WaitAsync(TimeSpan.FromSeconds(10)), "a push went out");
            }
        }

        public Task SendCoreAsync(string method, object?[] args, CancellationToken cancellationToken = default)
        {
            lock (_sent)
            {
                _sent.Add(method);
            }

            _signal.Release();
            return Task.CompletedTask;
        }

        public IClientProxy All => this;

        public IClientProxy AllExcept(IReadOnlyList<string> excludedConnectionIds) => this;

        public IClientProxy Client(string connectionId) => new OneConnection(this, connectionId);

        // Sending to a list of ids looks at every connection of the hub: the outbox must not.
        public IClientProxy Clients(IReadOnlyList<string> connectionIds) => throw new NotSupportedException();

        public IClientProxy Group(string groupName) => this;

        public IClientProxy GroupExcept(string groupName, IReadOnlyList<string> excludedConnectionIds) => this;

        public IClientProxy Groups(IReadOnlyList<string> groupNames) => this;

        public IClientProxy User(string userId) => this;

        public IClientProxy Users(IReadOnlyList<string> userIds) => this;

        private sealed class OneConnection(RecordingClients clients, string connectionId) : IClientProxy
        {
            public Task SendCoreAsync(string method, object?[] args, CancellationToken cancellationToken = default)
            {
                lock (clients._sent)
                {
                    clients._sentTo.Add($"{connectionId}:{method}");
                }

                return clients.SendCoreAsync(method, args, cancellationToken);
            }
        }
    }
}
