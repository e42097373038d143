using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Agents;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Queues;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Queues;

/// <summary>
/// A queue's member list is stored so a reactivated queue knows whom to ask for their availability. Joins
/// are acknowledged before they are written, and written together, beside the queue's turns; an agent whose join the
/// queue has not stored yet asks again later, so a join lost before its write is made again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class QueueMembershipTests(RoutingClusterFixture fx)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AgentsJoiningWhileTheMemberListIsWritten_AreAcknowledgedAtOnce_TheQueueRoutes_AndOneMoreWriteStoresThemAll()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("big");
        var grain = fx.Queue(queue).GetGrainId();
        var writes = StorageFaults.WritesOf(grain);
        var agents = Enumerable.Range(0, 21).Select(i => s.Id($"a{i:D2}")).ToArray();
        var session = s.Id("s");
        var events = new Follower();
        var follower = fx.Cluster.Client.CreateObjectReference<ISessionFollower>(events);
        await fx.Session(session).FollowAsync(follower);

        var held = StorageFaults.HoldNextWrite(grain);
        try
        {
            // The first join starts a write of the member list, which the storage holds.
            await JoinReadyAsync(agents[0], queue).WaitAsync(Patience);
            await held.WaitAsync(Patience);

            // Meanwhile twenty more join: each is acknowledged at once (the queue's turns do not wait for the write) ...
            await Task.WhenAll(agents.Skip(1).Select(a => JoinReadyAsync(a, queue))).WaitAsync(Patience);

            // ... and the queue routes: a new session reaches a ready agent.
            var created = await fx.Session(session).CreateAsync(NewSession(queue, session)).WaitAsync(Patience);
            Assert.Equal(CreateStatus.Created, created.Status);
            var offered = await events.Mailbox.WaitFor(u => u.Type == SessionEventType.Offered);
            Assert.Contains(offered.AgentId, agents);
        }
        finally
        {
            StorageFaults.Release(grain);
            await fx.Session(session).UnfollowAsync(follower);
            GC.KeepAlive(events);
        }

        await fx.SettleAsync();

        // The held write, then one write for the twenty that joined during it.
        Assert.Equal(writes + 2, StorageFaults.WritesOf(grain));
        Assert.Equal(agents.Order(StringComparer.Ordinal), (await StoredMembersAsync(queue)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task IdleReadyAgent_WhoseJoinWasNotStored_IsKnownAgain_ByTheQueuesNextActivation()
    {
        var s = new Scenario(fx);
        var queue = await s.QueueAsync("cards");
        var agent = s.Id("idle");
        var grain = fx.Queue(queue).GetGrainId();

        // Ready, then it joins the queue (a profile change) and does nothing more. The queue acknowledges the join, but
        // its write of the member list fails: the queue resets, and its next activation reads a list without the agent.
        await s.Do(() => fx.Agent(agent).PutProfileAsync(new AgentProfile { Name = "idle", Queues = [] }));
        await s.Do(() => fx.Agent(agent).SetStateAsync(AgentState.Ready, null));
        StorageFaults.FailNextWrite(grain);
        await s.Do(() => fx.Agent(agent).PutProfileAsync(new AgentProfile { Name = "idle", Queues = [queue] }));

        Assert.DoesNotContain(agent, await StoredMembersAsync(queue));
        Assert.Equal(0, (await fx.Queue(queue).GetLiveAsync()).AgentsKnown);
        var session = await s.SessionAsync("waiting", queue);
        Assert.Equal(SessionState.Queued, (await s.GetSession(session)).State);

        // The agent was told its membership was not stored; it publishes to the queue again by itself.
        await fx.AdvanceAsync(new AgentOptions().MembershipCheckDelay + TimeSpan.FromSeconds(1));

        var offered = await s.GetSession(session);
        Assert.Equal(SessionState.Offered, offered.State);
        Assert.Equal(agent, offered.AgentId);
        Assert.Contains(agent, await StoredMembersAsync(queue));
    }

    private async Task JoinReadyAsync(string agent, string queue)
    {
        await fx.Agent(agent).PutProfileAsync(new AgentProfile { Name = agent, Queues = [queue] });
        await fx.Agent(agent).SetStateAsync(AgentState.Ready, null);
    }

    private static NewSession NewSession(string queue, string id) => new()
    {
        QueueId = queue,
        Channel = Channel.Voice,
        Customer = new Customer("c-" + id, null, []),
        Skills = new Dictionary<string, int>(),
        Fingerprint = id,
    };

    /// <summary>The queue's member list as its storage holds it.</summary>
    private async Task<IReadOnlyCollection<string>> StoredMembersAsync(string queue)
    {
        var storage = fx.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(RoutingGrainsServiceCollectionExtensions.StorageName);
        var record = new GrainState<QueueRecord>(new QueueRecord());
        await storage.ReadStateAsync("queue", fx.Queue(queue).GetGrainId(), record);
        return record.State?.Agents ?? [];
    }

    private sealed class Follower : ISessionFollower
    {
        public Mailbox<SessionUpdate> Mailbox { get; } = new();

        public Task OnSessionUpdateAsync(SessionUpdate update)
        {
            Mailbox.Add(update);
            return Task.CompletedTask;
        }
    }
}
