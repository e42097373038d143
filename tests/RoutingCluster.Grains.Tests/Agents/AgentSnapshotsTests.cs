using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Grains.Agents;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests.Agents;

/// <summary>What an agent's view shows of the offers it holds.</summary>
public sealed class AgentSnapshotsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void View_OfAnOfferPastItsExpiry_DoesNotListIt_WhileTheCapacityStaysReservedUntilTheAgentLetsItGo()
    {
        // The case behind a session seen in two agents' views at once: the agent's alarm is late (a busy silo), the
        // session takes its expired offer back after its grace and is offered to another agent, while this agent's
        // record still has the offer. Its view must not list it from its expiry on.
        var record = new AgentRecord
        {
            Exists = true,
            State = AgentState.Ready,
            Queues = ["q"],
            Capacity = new Dictionary<Channel, int> { [Channel.Voice] = 1 },
            Sessions =
            {
                ["s-1"] = new HeldSession
                {
                    SessionId = "s-1", Channel = Channel.Voice, QueueId = "q", State = HeldState.Offered,
                    Since = T0, OfferedAt = T0, ExpiresAt = T0.AddSeconds(15),
                },
            },
        };

        Assert.Equal("s-1", Assert.Single(AgentSnapshots.View("a-1", record, T0.AddSeconds(14.9)).Offers).SessionId);
        Assert.Empty(AgentSnapshots.View("a-1", record, T0.AddSeconds(15)).Offers);
        Assert.Empty(AgentSnapshots.View("a-1", record, T0.AddSeconds(21)).Offers);
        Assert.False(AgentSnapshots.Supply("a-1", record).HasFreeCapacity);
    }
}
