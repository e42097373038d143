using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Supervision;

/// <summary>What a supervisor's tool does through <see cref="RoutingClient"/> against the real host: set a queue's
/// alert bounds, read the active alerts, and ask how many agents a load needs.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class SupervisorToolsTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task Supervisor_SetsAlertBounds_AndSeesTheAlertRaisedWhenCustomersWait()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");

        var queue = await client.PutQueueAsync(queueId, new QueueSettings { Alerts = new QueueAlerts { WaitingAbove = 1, ServiceLevelBelow = 0.5 } });
        Assert.Equal(1, queue.Alerts.WaitingAbove);
        Assert.Equal(0.5, queue.Alerts.ServiceLevelBelow);
        Assert.Null(queue.Alerts.LongestWaitSeconds);
        Assert.Equal(queue.Alerts, (await client.GetQueueAsync(queueId)).ToSettings().Alerts);

        foreach (var customer in new[] { "c-1", "c-2" })
        {
            await client.CreateSessionAsync(new CreateSessionRequest { QueueId = queueId, Channel = Channel.Voice, Customer = new Customer { Id = customer } });
        }

        // Checked every second: the alert shows up within a few.
        using var deadline = new CancellationTokenSource(Deadline.Default);
        QueueAlert? waiting = null;
        while (waiting is null)
        {
            waiting = (await client.GetAlertsAsync(deadline.Token)).SingleOrDefault(a => a.QueueId == queueId && a.Kind == AlertKind.Waiting);
            if (waiting is null)
            {
                await Task.Delay(100, deadline.Token);
            }
        }

        Assert.Equal(2, waiting.Value);
        Assert.Equal(1, waiting.Threshold);
        Assert.True(waiting.Since > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Supervisor_AsksHowManyAgentsALoadNeeds()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings { ServiceLevelSeconds = 20 });

        var answer = await client.GetStaffingAsync(queueId, new StaffingQuestion { ArrivalsPerHour = 200, AhtSeconds = 180, TargetServiceLevel = 0.8 });

        Assert.Equal(queueId, answer.QueueId);
        Assert.Equal(StaffingMethod.Formula, answer.Method);
        Assert.Equal(14, answer.AgentsNeeded);
        Assert.Equal(20, answer.ThresholdSeconds);
        Assert.Null(answer.PatienceSeconds);
        Assert.Equal(0.8884, answer.Predicted.ServiceLevel);
        Assert.Equal([11, 12, 13, 14, 15, 16, 17], answer.Table.Select(r => r.Agents));

        var withPatience = await client.GetStaffingAsync(queueId, new StaffingQuestion { ArrivalsPerHour = 200, AhtSeconds = 180, PatienceSeconds = 120, Method = StaffingMethod.Formula });
        Assert.Equal(1, withPatience.Table[0].Agents);
        Assert.True(withPatience.Table[0].AbandonRate > 0.5);
    }

    [Fact]
    public async Task Staffing_WithNothingMeasured_ThrowsTheProblemNamingTheField()
    {
        using var client = host.CreateRoutingClient();
        var queueId = Ids.New("q");
        await client.PutQueueAsync(queueId, new QueueSettings());

        var error = await Assert.ThrowsAsync<RoutingApiException>(() => client.GetStaffingAsync(queueId));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("arrivalsPerHour", error.Problem!.Errors!.Keys);
    }

    [Fact]
    public async Task Supervisor_SeesAQueuesAgents_AndMovesOneToAnotherQueue()
    {
        using var client = host.CreateRoutingClient();
        var cards = Ids.New("q");
        var loans = Ids.New("q");
        var agentId = Ids.New("a");
        await client.PutQueueAsync(cards, new QueueSettings());
        await client.PutQueueAsync(loans, new QueueSettings());
        await client.PutAgentAsync(agentId, new AgentProfile { Name = "Li Wei", Queues = [cards] });
        await client.SetAgentStateAsync(agentId, AgentState.NotReady, "break");

        using var deadline = new CancellationTokenSource(Deadline.Default);
        IReadOnlyList<AgentView> agents = [];
        while (agents.Count == 0)
        {
            agents = await client.GetQueueAgentsAsync(cards, deadline.Token);
            if (agents.Count == 0)
            {
                await Task.Delay(100, deadline.Token);
            }
        }

        var listed = Assert.Single(agents);
        Assert.Equal(agentId, listed.Id);
        Assert.Equal(AgentState.NotReady, listed.State);
        Assert.Equal("break", listed.Reason);
        Assert.Null(listed.ForcedBy);

        var moved = await client.MoveAgentAsync(agentId, [loans]);

        Assert.Equal([loans], moved.Queues);
        Assert.Equal("Li Wei", moved.Name);
        Assert.Equal(AgentState.NotReady, moved.State);
    }
}
