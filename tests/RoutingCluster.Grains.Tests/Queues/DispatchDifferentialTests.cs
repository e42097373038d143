using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Common;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Grains.Queues;
using RoutingCluster.Simulator.Protocol;
using Xunit.Abstractions;

namespace RoutingCluster.Grains.Tests.Queues;

/// <summary>
/// One generated trace (over 10,000 customers across four queues and three channels; agents signing in and out,
/// taking breaks, rejecting and missing offers; customers hanging up; relaxation steps; strict and finite head starts;
/// preferred agents; max waits that overflow) is run through the real grains in virtual time and through the protocol
/// model of the simulator, which routes with the same <see cref="Routing.Queueing.QueueDispatcher"/>. Both must make
/// the same offers: the same session to the same agent at the same instant. The grains' offers are the ones their
/// agents' desktops were pushed.
/// </summary>
public sealed class DispatchDifferentialTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(11)]
    [InlineData(29)]
    public async Task Grains_AndTheSimulator_MakeTheSameOffers(int seed)
    {
        var trace = RoutingTrace.Generate(seed);
        Assert.True(trace.Steps.OfType<SessionArrives>().Count() >= 10_000);

        var expected = ProtocolModel.Run(trace);
        var desktopLog = new ConcurrentQueue<AgentUpdate>();
        var actual = await RunThroughGrainsAsync(trace, desktopLog);

        output.WriteLine($"seed {seed}: {trace.Steps.Count} steps, model {expected.Count} offers, grains {actual.Count} offers");
        var difference = TraceAgenda.FirstDifference(expected, actual, "simulator", "grains");
        if (difference is not null)
        {
            // What the trace did in the ten seconds before the first differing offer.
            var (first, second) = TraceAgenda.Canonical(expected).Zip(TraceAgenda.Canonical(actual)).FirstOrDefault(p => p.First != p.Second);
            var at = first.AtMs / 1000.0;
            string[] involved = [first.SessionId, first.AgentId, second.SessionId, second.AgentId];
            foreach (var (name, offers) in new[] { ("simulator", expected), ("grains", actual) })
            {
                output.WriteLine($"{name}: offers of {string.Join(", ", involved.Distinct())} up to then");
                foreach (var o in offers.Where(o => o.AtMs <= first.AtMs && (involved.Contains(o.SessionId) || involved.Contains(o.AgentId))))
                {
                    output.WriteLine("  " + o);
                }
            }

            var journal = new List<string>();
            ProtocolModel.Run(trace, journal);
            output.WriteLine("simulator's journal, last 10 s, of what is involved:");
            foreach (var line in journal.Where(l => double.Parse(l[..l.IndexOf('s')], System.Globalization.CultureInfo.InvariantCulture) is var t && t >= at - 10 && t <= at
                && involved.Any(l.Contains)))
            {
                output.WriteLine("  " + line);
            }

            output.WriteLine("grains' desktop pushes, last 10 s, of the agents involved:");
            foreach (var u in desktopLog.Where(u => involved.Contains(u.AgentId) && (u.At - RoutingTrace.Epoch).TotalSeconds >= at - 10 && (u.At - RoutingTrace.Epoch).TotalSeconds <= at))
            {
                output.WriteLine($"  {(u.At - RoutingTrace.Epoch).TotalSeconds:F3}s {u.AgentId} {u.Type} {u.SessionId}: v{u.Agent.Version} {u.Agent.State} offers [{string.Join(", ", u.Agent.Offers.Select(o => o.SessionId))}] sessions [{string.Join(", ", u.Agent.Sessions.Select(h => h.SessionId + " " + h.State))}]");
            }

            output.WriteLine("agents involved: " + string.Join("; ", trace.Agents.Where(a => involved.Contains(a.Id))
                .Select(a => $"{a.Id} queues [{string.Join(",", a.Queues)}] skills [{string.Join(",", a.Skills.Select(kv => kv.Key + "=" + kv.Value))}]")));
            foreach (var step in trace.Steps.Where(s => s.At >= at - 10 && s.At <= at
                && (s is not SessionArrives arrives || involved.Contains(arrives.SessionId)) && (s is not AgentChooses c || involved.Contains(c.AgentId))))
            {
                output.WriteLine(step.ToString());
            }
        }

        Assert.True(difference is null, difference);

        // The trace exercised what it is meant to: many offers, and some sessions offered more than once (rejected or missed).
        Assert.True(expected.Count > 10_000, $"only {expected.Count} offers");
        Assert.True(expected.GroupBy(o => o.SessionId).Count(g => g.Count() > 1) > 100);
    }

    private static async Task<List<OfferSeen>> RunThroughGrainsAsync(RoutingTrace trace, ConcurrentQueue<AgentUpdate> desktopLog)
    {
        // Queues and agents are set up a minute before the trace starts (their first membership checks are done by then).
        var time = new SteppedTime(RoutingTrace.Epoch - TimeSpan.FromMinutes(1));

        // Desktop pushes are one-way: the silo counts those it sent, the desktops those they received, and the run
        // settles only when both agree (and no routing work is left).
        var pushes = new PushCount();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            foreach (var name in new[] { RoutingGrainsServiceCollectionExtensions.StorageName, RoutingGrainsServiceCollectionExtensions.SessionStorageName })
            {
                silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
            }

            silo.Services.AddRoutingGrains(time);
            silo.AddOutgoingGrainCallFilter(async call =>
            {
                // Pushes only: an expiring offer's question to the desktop (when it was shown) is a call, not a push.
                if (call.InterfaceMethod is { Name: nameof(IAgentDesktopObserver.OnAgentUpdateAsync) } method && method.DeclaringType == typeof(IAgentDesktopObserver))
                {
                    pushes.Sent();
                }

                await call.Invoke();
            });
            silo.Services.Configure<QueueOptions>(o => o.PositionUpdateInterval = TimeSpan.Zero);
            silo.Services.Configure<StatsOptions>(o => o.FlushInterval = TimeSpan.FromHours(1));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var grains = cluster.Client;
            var tracker = cluster.Silos[0].ServiceProvider.GetRequiredService<WorkTracker>();
            async Task Settle()
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                while (tracker.InFlight > 0 || !pushes.AllReceived)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"The cluster did not settle at {time.GetUtcNow():O}. Running: " + string.Join("; ", tracker.Running)
                            + $"; desktop pushes sent {pushes.SentCount}, received {pushes.ReceivedCount}");
                    }

                    if (tracker.InFlight > 0)
                    {
                        await Task.WhenAny(tracker.WhenIdleAsync(), Task.Delay(TimeSpan.FromSeconds(1)));
                    }
                    else
                    {
                        await Task.Yield();
                    }
                }
            }

            var seen = new ConcurrentQueue<OfferSeen>();
            var desktops = new Desktop(seen, desktopLog, pushes); // observer references are weak: held here until the run ends
            var desktop = cluster.Client.CreateObjectReference<IAgentDesktopObserver>(desktops);
            foreach (var queue in trace.Queues)
            {
                await grains.GetGrain<IQueueGrain>(queue.Id).PutAsync(new QueueConfig { Id = queue.Id, Name = queue.Id, Policy = queue.Policy });
            }

            foreach (var agent in trace.Agents)
            {
                var grain = grains.GetGrain<IAgentGrain>(agent.Id);
                await grain.PutProfileAsync(new AgentProfile { Name = agent.Id, Skills = agent.Skills, Queues = agent.Queues, Capacity = agent.Capacity });
                await grain.DesktopConnectedAsync("desktop-" + agent.Id, desktop);
            }

            await Settle();
            var agenda = new TraceAgenda(trace);
            var end = RoutingTrace.Instant(trace.EndsAt);
            var endMs = TraceAgenda.Ms(trace.EndsAt);
            while (true)
            {
                var timerAt = time.NextDue;
                var actionAt = agenda.NextAtMs;
                if (timerAt is { } t && (actionAt is null || t <= RoutingTrace.Epoch + TimeSpan.FromMilliseconds(actionAt.Value)))
                {
                    if (t > end)
                    {
                        break;
                    }

                    time.FireNext();
                }
                else if (actionAt is { } at && at <= endMs)
                {
                    time.MoveTo(RoutingTrace.Epoch + TimeSpan.FromMilliseconds(at));
                    await PerformAsync(grains, agenda, agenda.Take(), at);
                }
                else
                {
                    break;
                }

                await Settle();
                foreach (var offer in TraceAgenda.Canonical(Drain(seen)))
                {
                    agenda.Offered(offer.AtMs, offer.SessionId, offer.AgentId);
                }
            }

            GC.KeepAlive(desktops);
            return agenda.Offers;
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static async Task PerformAsync(IGrainFactory grains, TraceAgenda agenda, object item, long atMs)
    {
        switch (item)
        {
            case SessionArrives a:
                var created = await grains.GetGrain<ISessionGrain>(a.SessionId).CreateAsync(new NewSession
                {
                    QueueId = a.QueueId,
                    Channel = a.Channel,
                    Customer = new Customer("c-" + a.SessionId, a.CustomerAge, a.Segments),
                    Skills = a.Skills,
                    PreferredAgentId = a.PreferredAgentId,
                    PreferredAgentWaitSeconds = a.PreferredAgentWaitSeconds,
                    Fingerprint = a.SessionId,
                });
                Assert.True(created.Status is CreateStatus.Created or CreateStatus.Refused, $"{a.SessionId}: {created.Status} {created.Detail}");
                break;
            case CustomerHangsUp h:
                await grains.GetGrain<ISessionGrain>(h.SessionId).AbandonAsync();
                break;
            case AgentChooses c:
                await grains.GetGrain<IAgentGrain>(c.AgentId).SetStateAsync(c.State, c.Reason);
                break;
            case AnswerOffer { Response: OfferResponse.Accept } accept:
                if ((await grains.GetGrain<IAgentGrain>(accept.AgentId).AcceptAsync(accept.SessionId)).IsOk)
                {
                    agenda.Accepted(atMs, accept.SessionId, accept.AgentId);
                }

                break;
            case AnswerOffer reject:
                await grains.GetGrain<IAgentGrain>(reject.AgentId).RejectAsync(reject.SessionId);
                break;
            case EndTalk e:
                await grains.GetGrain<IAgentGrain>(e.AgentId).EndAsync(e.SessionId);
                break;
        }
    }

    private static List<OfferSeen> Drain(ConcurrentQueue<OfferSeen> seen)
    {
        var drained = new List<OfferSeen>();
        while (seen.TryDequeue(out var offer))
        {
            drained.Add(offer);
        }

        return drained;
    }

    /// <summary>The agents' desktops: every offer pushed to one is what an agent saw.</summary>
    private sealed class Desktop(ConcurrentQueue<OfferSeen> seen, ConcurrentQueue<AgentUpdate> log, PushCount pushes) : IAgentDesktopObserver
    {
        private readonly ConcurrentDictionary<(string, string), DateTimeOffset> _shown = new();

        /// <summary>An offer is on the desktop the moment it is pushed (when it was made, on the routing clock).</summary>
        public Task<DateTimeOffset?> OfferShownAtAsync(string agentId, string sessionId) =>
            Task.FromResult(_shown.TryGetValue((agentId, sessionId), out var at) ? at : (DateTimeOffset?)null);

        public Task OnAgentUpdateAsync(AgentUpdate update)
        {
            log.Enqueue(update);
            if (update is { Type: AgentEventType.Offer, Offer: { } offer })
            {
                _shown[(update.AgentId, offer.SessionId)] = offer.OfferedAt;
                seen.Enqueue(new OfferSeen((long)Math.Round((offer.OfferedAt - RoutingTrace.Epoch).TotalMilliseconds), offer.SessionId, update.AgentId));
            }

            pushes.Received();
            return Task.CompletedTask;
        }

        public Task OnAgentDeactivatingAsync(string agentId) => Task.CompletedTask;
    }

    /// <summary>Desktop pushes sent by the silo and received by the desktops (each received one counted after it was
    /// recorded).</summary>
    private sealed class PushCount
    {
        private long _sent;
        private long _received;

        public long SentCount => Interlocked.Read(ref _sent);

        public long ReceivedCount => Interlocked.Read(ref _received);

        public bool AllReceived => ReceivedCount >= SentCount;

        public void Sent() => Interlocked.Increment(ref _sent);

        public void Received() => Interlocked.Increment(ref _received);
    }
}
