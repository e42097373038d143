using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests;

/// <summary>Small helpers that make a test read as a contact-center story. Every id carries a prefix unique
/// to the test, because all tests share one cluster.</summary>
public sealed class Scenario(RoutingClusterFixture fx)
{
    private static int s_counter;

    public string Prefix { get; } = $"t{Interlocked.Increment(ref s_counter)}-";

    public RoutingClusterFixture Fx => fx;

    public string Id(string name) => Prefix + name;

    public async Task<string> QueueAsync(string name, QueuePolicy? policy = null)
    {
        var id = Id(name);
        await fx.Queue(id).PutAsync(new QueueConfig { Id = id, Name = name, Policy = policy ?? QueuePolicy.Default });
        return id;
    }

    public async Task<string> AgentAsync(string name, string[] queues, Dictionary<string, int>? skills = null,
        Dictionary<Channel, int>? capacity = null, bool ready = true)
    {
        var id = Id(name);
        await fx.Agent(id).PutProfileAsync(new AgentProfile { Name = name, Queues = queues, Skills = skills ?? [], Capacity = capacity });
        if (ready)
        {
            await fx.Agent(id).SetStateAsync(AgentState.Ready, null);
        }

        await fx.SettleAsync();
        return id;
    }

    public async Task<string> SessionAsync(string name, string queue, Channel channel = Channel.Voice, int? age = null,
        Segment[]? segments = null, Dictionary<string, int>? skills = null, string? preferredAgent = null, double preferredWait = 0)
    {
        var id = Id(name);
        var result = await fx.Session(id).CreateAsync(new NewSession
        {
            QueueId = queue,
            Channel = channel,
            Customer = new Customer("c-" + name, age, segments ?? []),
            Skills = skills ?? [],
            PreferredAgentId = preferredAgent,
            PreferredAgentWaitSeconds = preferredWait,
            Fingerprint = id,
        });
        Assert.True(result.Status is CreateStatus.Created, $"create {name}: {result.Status} {result.Detail}");
        await fx.SettleAsync();
        return id;
    }

    public async Task<SessionView> GetSession(string id) => (await fx.Session(id).GetAsync())!;

    public async Task<AgentView> GetAgent(string id) => (await fx.Agent(id).GetAsync())!;

    public async Task<string?> OfferOf(string agentId) => (await GetAgent(agentId)).Offers.SingleOrDefault()?.SessionId;

    public async Task Do(Func<Task> action)
    {
        await action();
        await fx.SettleAsync();
    }
}
