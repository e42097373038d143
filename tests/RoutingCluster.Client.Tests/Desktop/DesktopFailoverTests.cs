using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using RoutingCluster.Tests.Shared;
using IAgentGrain = RoutingCluster.Abstractions.Agents.IAgentGrain;

namespace RoutingCluster.Client.Tests.Desktop;

/// <summary>
/// An agent desktop given two silos of one cluster (<see cref="TwoSiloCluster"/>) fails over by itself when the silo
/// it is on stops: it reconnects to the other one, signs in again as the same agent, and its offers reach it there.
/// </summary>
[Collection(TwoSiloCollection.Name)]
public sealed class DesktopFailoverTests
{
    /// <summary>How long the desktop may take to be back on the other silo, from the moment the stopped one is gone
    /// (the stop itself, a graceful silo shutdown, is awaited before).</summary>
    private static readonly TimeSpan FailoverDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Desktop_GivenBThenA_IsOnB_AndWhenBStops_ReconnectsToA_SignsInAgain_AndReceivesAndAcceptsAnOfferMadeThroughA()
    {
        await using var cluster = TwoSiloCluster.Start();
        Assert.Equal(2, await cluster.ActiveSilosAsync());
        using var gateway = cluster.A.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");

        // The queue and the agent are created through B, so their grains live on B, the silo that will stop: the
        // desktop's sign-in on A may still reach the agent's activation on B before B deactivates it.
        using (var admin = cluster.B.CreateRoutingClient())
        {
            await admin.PutQueueAsync(queueId, new QueueSettings());
            await admin.PutAgentAsync(agentId, new AgentProfile { Name = "Li Wei", Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        }

        var agentGrain = cluster.Grain<IAgentGrain>(agentId);
        Assert.Equal(cluster.B.SiloPort, await cluster.SiloPortOfAsync(agentGrain));

        var log = new RecordingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(log));
        await using var desktop = new AgentDesktopClient([cluster.B.BaseAddress, cluster.A.BaseAddress], new AgentDesktopOptions
        {
            AccessTokens = TestTokenSources.Agents,
            ReconnectPolicy = new QuickRetries(),
            LoggerFactory = loggerFactory,
        });
        var failovers = new ConcurrentQueue<(Uri From, Uri To)>();
        var failedOverToA = new TaskCompletionSource<(Uri From, Uri To)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var signedInAgainOnA = new TaskCompletionSource<AgentView>(TaskCreationOptions.RunContinuationsAsynchronously);
        var offers = new TaskCompletionSource<OfferNotice>(TaskCreationOptions.RunContinuationsAsynchronously);
        desktop.FailedOver += (from, to) =>
        {
            failovers.Enqueue((from, to));
            if (to == cluster.A.BaseAddress)
            {
                failedOverToA.TrySetResult((from, to));
            }

            return Task.CompletedTask;
        };

        // Events come one at a time, in order: Reconnected after FailedOver is the sign-in on A (while B was stopping,
        // the desktop may have reconnected to B once more before B stopped listening).
        desktop.Reconnected += agent =>
        {
            if (failedOverToA.Task.IsCompleted)
            {
                signedInAgainOnA.TrySetResult(agent);
            }

            return Task.CompletedTask;
        };
        desktop.OfferReceived += (offer, _) =>
        {
            offers.TrySetResult(offer);
            return Task.CompletedTask;
        };

        var signedIn = await desktop.SignInAsync(agentId);
        Assert.Equal(cluster.B.BaseAddress, desktop.CurrentAddress);
        Assert.Equal(agentId, signedIn.Id);
        Assert.True((await desktop.SetStateAsync(AgentState.Ready)).Ok);
        Assert.Empty(failovers);

        await cluster.B.DisposeAsync();
        var (from, to) = await failedOverToA.Task.WaitAsync(FailoverDeadline);
        var view = await signedInAgainOnA.Task.WaitAsync(Deadline.Default);

        Assert.Equal(cluster.B.BaseAddress, from);
        Assert.Equal(cluster.A.BaseAddress, to);
        Assert.Equal(cluster.A.BaseAddress, desktop.CurrentAddress);
        Assert.Equal(HubConnectionState.Connected, desktop.ConnectionState);
        Assert.Equal(agentId, view.Id);
        Assert.Equal(AgentState.Ready, view.State);
        Assert.Equal(1, await cluster.ActiveSilosAsync());
        Assert.Equal(cluster.A.SiloPort, await cluster.SiloPortOfAsync(agentGrain));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information
            && e.Message.Contains($"failed over from silo {cluster.B.BaseAddress} to silo {cluster.A.BaseAddress}", StringComparison.Ordinal));

        var created = await gateway.CreateSessionAsync(GatewayFlowTests.NewSession(queueId, age: 72));
        var offer = await offers.Task.WaitAsync(Deadline.Default);
        var accepted = await desktop.AcceptAsync(offer.SessionId);

        Assert.Equal(created.Session.Id, offer.SessionId);
        Assert.Equal([Segment.Elderly], offer.Segments);
        Assert.Equal(new AgentActionResult(true, 200, null), accepted);
        var session = await gateway.GetSessionAsync(created.Session.Id);
        Assert.Equal(SessionState.Connected, session.State);
        Assert.Equal(agentId, session.AgentId);
        Assert.Equal(HeldState.Connected, Assert.Single((await desktop.GetAgentAsync())!.Sessions).State);
        Assert.True(cluster.Store.Count > 0, "the silos kept their grain state in the shared store");
    }

    [Fact]
    public async Task Desktop_OnA_WhenTheSiloHoldingItsAgentStops_StillReceivesAndAcceptsOffers()
    {
        await using var cluster = TwoSiloCluster.Start();
        using var gateway = cluster.A.CreateRoutingClient();
        var queueId = Ids.New("q");
        var agentId = Ids.New("a");
        using (var admin = cluster.B.CreateRoutingClient())
        {
            await admin.PutQueueAsync(queueId, new QueueSettings());
            await admin.PutAgentAsync(agentId, new AgentProfile { Skills = new Dictionary<string, int> { ["cards"] = 4 }, Queues = [queueId] });
        }

        var agentGrain = cluster.Grain<IAgentGrain>(agentId);
        await using var desktop = new AgentDesktopClient(cluster.A.BaseAddress, TestTokenSources.Desktop());
        var offers = new TaskCompletionSource<OfferNotice>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var toldAfterTheMove = new TaskCompletionSource<AgentView>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStopping = 0;
        desktop.OfferReceived += (offer, _) =>
        {
            offers.TrySetResult(offer);
            return Task.CompletedTask;
        };
        desktop.AgentChanged += agent =>
        {
            if (agent.State == AgentState.Ready && Volatile.Read(ref bStopping) == 0)
            {
                ready.TrySetResult();
            }
            else if (agent.State == AgentState.Ready)
            {
                toldAfterTheMove.TrySetResult(agent);
            }

            return Task.CompletedTask;
        };
        await desktop.SignInAsync(agentId);
        Assert.True((await desktop.SetStateAsync(AgentState.Ready)).Ok);
        await ready.Task.WaitAsync(Deadline.Default);
        Assert.Equal(cluster.B.SiloPort, await cluster.SiloPortOfAsync(agentGrain));

        // The agent's grain is deactivated with B; A's relay, told so, registers the desktop again at once with the
        // grain's next activation, on A, which tells the desktop the agent as it is (without that, the relay would
        // register it again only at its periodic renewal, a minute later, and the offer below would reach nobody).
        Volatile.Write(ref bStopping, 1);
        await cluster.B.DisposeAsync();
        var told = await toldAfterTheMove.Task.WaitAsync(Deadline.Default);
        Assert.Equal(agentId, told.Id);
        Assert.Equal(cluster.A.SiloPort, await cluster.SiloPortOfAsync(agentGrain));

        var created = await gateway.CreateSessionAsync(GatewayFlowTests.NewSession(queueId));
        var offer = await offers.Task.WaitAsync(Deadline.Default);

        Assert.Equal(created.Session.Id, offer.SessionId);
        Assert.True((await desktop.AcceptAsync(offer.SessionId)).Ok);
        Assert.Equal(HubConnectionState.Connected, desktop.ConnectionState);
        Assert.Equal(cluster.A.BaseAddress, desktop.CurrentAddress);
    }

    private sealed class QuickRetries : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => TimeSpan.FromMilliseconds(100);
    }
}

/// <summary>Keeps what was logged, for assertions.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
