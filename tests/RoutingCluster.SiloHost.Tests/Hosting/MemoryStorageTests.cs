using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Core.Internal;
using Orleans.Storage;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Routing.Model;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>
/// The memory profile keeps grain states in Orleans' binary form (the default JSON grain storage serializer costs about
/// 60 µs and 47 KB per session write), and every state the routing grains write reads back once their activations
/// are gone; a followed session keeps its followers meanwhile.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class MemoryStorageTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    private IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    [Theory]
    [InlineData(RoutingGrainsServiceCollectionExtensions.StorageName)]
    [InlineData(RoutingGrainsServiceCollectionExtensions.SessionStorageName)]
    public void MemoryProfile_StoresStatesWithOrleansBinarySerializer(string storage)
    {
        // The routing grains' states in the silo's own memory (a silo on its own), the stream registrations in
        // Orleans' memory storage: both in Orleans' binary form.
        var serializer = host.Services.GetRequiredKeyedService<IGrainStorage>(storage) is InProcessGrainStorage inProcess
            ? inProcess.Serializer
            : host.Services.GetRequiredService<IOptionsMonitor<MemoryGrainStorageOptions>>().Get(storage).GrainStorageSerializer;

        Assert.IsType<OrleansGrainStorageSerializer>(serializer);
    }

    [Fact]
    public async Task QueueAgentAndSessionStates_ReadBackEqual_AfterTheirGrainsWereDeactivated()
    {
        var queue = await _api.PutQueue(HostApi.NewId("stored"), """
            { "name": "Stored", "serviceLevelSeconds": 25, "offerTimeoutSeconds": 40, "wrapUpSeconds": 7, "elderlyAge": 70,
              "headStart": { "elderly": 45, "vip": "strict" }, "agentSelection": "most-skilled",
              "relaxation": [ { "afterSeconds": 30, "lowerBy": 1 }, { "afterSeconds": 90, "lowerBy": 2 } ],
              "maxWaiting": 500, "maxWaitSeconds": 600, "overflowQueueId": "stored-overflow" }
            """);
        var agent = HostApi.NewId("a");
        (await _api.Put($"/v1/agents/{agent}", $$"""
            { "name": "Li Wei", "skills": { "cards": 4, "mandarin": 5 }, "queues": [ "{{queue}}" ], "capacity": { "voice": 1, "chat": 3, "email": 2 } }
            """)).Ok();
        await _api.SetState(agent, "ready");
        var created = await _api.Post("/v1/sessions", $$"""
            { "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-7", "age": 72, "segments": [ "vip", "military" ] },
              "skills": { "cards": 3, "mandarin": 1 }, "attributes": { "ivr": "loss", "lang": "zh" } }
            """);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var session = created.Json!.Str("id");
        (await _api.Post($"/v1/agents/{agent}/offers/{session}/accept")).Ok();
        await Tracker.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));

        var queueBefore = (await _api.Get($"/v1/queues/{queue}")).Ok().ToJsonString();
        var agentBefore = (await _api.Get($"/v1/agents/{agent}")).Ok().ToJsonString();
        var sessionBefore = (await _api.Get($"/v1/sessions/{session}")).Ok().ToJsonString();
        Assert.Equal(1, (await Grains.GetGrain<IQueueGrain>(queue).GetLiveAsync()).AgentsKnown);

        // Every idle activation goes (the queue stays active by design, so it is asked to go explicitly); the next
        // call reactivates each grain from its stored state.
        await Grains.GetGrain<IQueueGrain>(queue).AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(queueBefore, (await _api.Get($"/v1/queues/{queue}")).Ok().ToJsonString());
        Assert.Equal(agentBefore, (await _api.Get($"/v1/agents/{agent}")).Ok().ToJsonString());
        Assert.Equal(sessionBefore, (await _api.Get($"/v1/sessions/{session}")).Ok().ToJsonString());

        // The queue's stored membership: the reactivated queue asks its agent to publish again, and knows it.
        await Tracker.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, (await Grains.GetGrain<IQueueGrain>(queue).GetLiveAsync()).AgentsKnown);
    }

    [Fact]
    public async Task Followers_StillHearTheSession_AfterIdleActivationsWereCollected()
    {
        var queue = await _api.PutQueue(HostApi.NewId("followed"));
        var session = await _api.CreateSession(queue);
        var cluster = host.Services.GetRequiredService<IClusterClient>();
        var first = new Follower();
        var second = new Follower();
        var one = cluster.CreateObjectReference<ISessionFollower>(first);
        var two = cluster.CreateObjectReference<ISessionFollower>(second);
        Assert.NotNull(await Grains.GetGrain<ISessionGrain>(session).FollowAsync(one));

        // Idle activations go; a followed session stays with its followers. A second follower joins the first.
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.NotNull(await Grains.GetGrain<ISessionGrain>(session).FollowAsync(two));
        try
        {
            (await _api.Post($"/v1/sessions/{session}/abandon")).Ok();

            Assert.Equal(SessionState.Abandoned, await first.Terminal.Task.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(SessionState.Abandoned, await second.Terminal.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            cluster.DeleteObjectReference<ISessionFollower>(one);
            cluster.DeleteObjectReference<ISessionFollower>(two);
            GC.KeepAlive(first);
            GC.KeepAlive(second);
        }
    }

    private WorkTracker Tracker => host.Services.GetRequiredService<WorkTracker>();

    private sealed class Follower : ISessionFollower
    {
        public TaskCompletionSource<SessionState> Terminal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task OnSessionUpdateAsync(SessionUpdate update)
        {
            if (update.State.IsTerminal())
            {
                Terminal.TrySetResult(update.State);
            }

            return Task.CompletedTask;
        }
    }
}
