using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Access;

/// <summary>The hubs with tokens: the agent hub takes agent tokens and acts for the token's agent only; the wallboard
/// hub takes supervisors and analysts.</summary>
[Collection(ClientHostCollection.Name)]
public sealed class HubAccessTests(KestrelSiloHostFactory host)
{
    [Fact]
    public async Task AgentHub_RefusesAConnectionWithoutAToken()
    {
        await using var connection = Connect("hubs/agent", token: null);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task AgentHub_RefusesASignInAsAnotherAgent()
    {
        using var admin = host.CreateRoutingClient();
        var queue = Ids.New("q");
        await admin.PutQueueAsync(queue, new QueueSettings());
        var a1 = Ids.New("a");
        var a2 = Ids.New("a");
        await admin.PutAgentAsync(a1, new AgentProfile { Queues = [queue] });
        await admin.PutAgentAsync(a2, new AgentProfile { Queues = [queue] });
        await using var connection = Connect("hubs/agent", TestTokens.Agent(a1));
        await connection.StartAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync<System.Text.Json.JsonElement>("SignIn", a2));
        var own = await connection.InvokeAsync<System.Text.Json.JsonElement>("SignIn", a1);

        Assert.Contains($"acts for agent {a1}, not {a2}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(a1, own.GetProperty("id").GetString());
    }

    [Fact]
    public async Task AgentHub_SignInSignOutAndARefusedSignIn_AreInTheAuditLog()
    {
        using var admin = host.CreateRoutingClient();
        var queue = Ids.New("q");
        await admin.PutQueueAsync(queue, new QueueSettings());
        var agent = Ids.New("a");
        var other = Ids.New("a");
        await admin.PutAgentAsync(agent, new AgentProfile { Queues = [queue] });
        await admin.PutAgentAsync(other, new AgentProfile { Queues = [queue] });
        await using (var connection = Connect("hubs/agent", TestTokens.Agent(agent)))
        {
            await connection.StartAsync();
            await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync<System.Text.Json.JsonElement>("SignIn", other));
            await connection.InvokeAsync<System.Text.Json.JsonElement>("SignIn", agent);
            await connection.StopAsync();
        }

        using var auditor = new HttpClient { BaseAddress = host.BaseAddress };
        auditor.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.For("risk-1", [Roles.Auditor]));
        System.Text.Json.Nodes.JsonArray records = [];
        for (var attempt = 0; attempt < 100 && records.Count < 3; attempt++)
        {
            await Task.Delay(50);
            records = System.Text.Json.Nodes.JsonNode.Parse(await auditor.GetStringAsync($"v1/audit?targetId={agent}"))!.AsArray();
        }

        Assert.Equal(["desktop.signed-out", "desktop.signed-in", "agent.configured"], records.Select(r => r!["action"]!.GetValue<string>()));
        Assert.All(records.Take(2), r => Assert.Equal(agent, r!["actor"]!["agentId"]!.GetValue<string>()));
        Assert.All(records.Take(2), r => Assert.Equal("127.0.0.1", r!["remoteAddress"]!.GetValue<string>()));
        var refused = Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(await auditor.GetStringAsync($"v1/audit?targetId={other}&action=access.refused"))!.AsArray())!;
        Assert.Contains($"acts for agent {agent}, not {other}", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WallboardHub_RefusesAnAgentsToken_AndTakesASupervisors()
    {
        await using var agent = Connect("hubs/wallboard", TestTokens.Agent("a-1"));
        await using var supervisor = Connect("hubs/wallboard", TestTokens.For("sup-1", [Roles.Supervisor]));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => agent.StartAsync());
        await supervisor.StartAsync();

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal(HubConnectionState.Connected, supervisor.State);
    }

    [Fact]
    public async Task DevTokenSource_GetsTokensFromTheHostsDevIssuer_ForTheTypedAndTheDesktopClient()
    {
        using var admin = new RoutingClient(host.BaseAddress, new RoutingClientOptions
        {
            AccessTokens = new DevTokenSource(host.BaseAddress, "admin-1", [Roles.Admin]),
        });
        var queue = Ids.New("q");
        var agentId = Ids.New("a");
        await admin.PutQueueAsync(queue, new QueueSettings());
        await admin.PutAgentAsync(agentId, new AgentProfile { Queues = [queue] });
        await using var desktop = new AgentDesktopClient(host.BaseAddress, new AgentDesktopOptions
        {
            AccessTokens = new DevTokenSource(host.BaseAddress, null, [Roles.Agent]),
        });

        var view = await desktop.SignInAsync(agentId);

        Assert.Equal(agentId, view.Id);
        Assert.Equal(queue, (await admin.GetQueueAsync(queue)).Id);
    }

    [Fact]
    public async Task TypedClient_After401_AsksForAFreshTokenOnce_AndRepeatsTheRequest()
    {
        var source = new ExpiredThenFresh();
        using var client = new RoutingClient(host.BaseAddress, new RoutingClientOptions { AccessTokens = source });
        var queue = Ids.New("q");

        var config = await client.PutQueueAsync(queue, new QueueSettings());

        Assert.Equal(queue, config.Id);
        Assert.Equal([false, true], source.Asked);
    }

    [Fact]
    public async Task TypedClient_WithATokenRefusedTwice_Throws401_AfterOneRefresh()
    {
        var source = new AlwaysExpired();
        using var client = new RoutingClient(host.BaseAddress, new RoutingClientOptions { AccessTokens = source });

        var error = await Assert.ThrowsAsync<RoutingApiException>(() => client.GetQueueAsync("q-none"));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal(2, source.Count);
    }

    private HubConnection Connect(string hub, string? token) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(host.BaseAddress, hub), http =>
            {
                if (token is not null)
                {
                    http.AccessTokenProvider = () => Task.FromResult<string?>(token);
                }
            })
            .Build();

    private static string Expired()
    {
        var now = DateTimeOffset.UtcNow;
        return TestTokens.Between("admin-1", [Roles.Admin], now.AddHours(-2), now.AddMinutes(-10));
    }

    /// <summary>An expired token first; a fresh one when asked to refresh.</summary>
    private sealed class ExpiredThenFresh : AccessTokenSource
    {
        public List<bool> Asked { get; } = [];

        public override ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken)
        {
            Asked.Add(request.Refresh);
            return ValueTask.FromResult(request.Refresh ? TestTokens.For("admin-1", [Roles.Admin]) : Expired());
        }
    }

    private sealed class AlwaysExpired : AccessTokenSource
    {
        public int Count { get; private set; }

        public override ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken)
        {
            Count++;
            return ValueTask.FromResult(Expired());
        }
    }
}

/// <summary>Hub invocations count against the caller's bucket, like its HTTP requests.</summary>
public sealed class HubRateLimitTests : IAsyncLifetime
{
    private readonly SiloHostFactory _host = SiloHostFactory.Create(new SiloHostOptions
    {
        Kestrel = true,
        Settings = new Dictionary<string, string> { ["RateLimits:Agent:PerSecond"] = "1", ["RateLimits:Agent:Burst"] = "6" },
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task AgentHub_BeyondTheAgentsBucket_RefusesInvocations_SayingWhenToRetry()
    {
        using var admin = _host.CreateRoutingClient();
        var queue = Ids.New("q");
        var agent = Ids.New("a");
        await admin.PutQueueAsync(queue, new QueueSettings());
        await admin.PutAgentAsync(agent, new AgentProfile { Queues = [queue] });
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_host.BaseAddress, "hubs/agent"), http => http.AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Agent(agent)))
            .Build();
        await connection.StartAsync();
        await connection.InvokeAsync<System.Text.Json.JsonElement>("SignIn", agent);

        var refusals = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await connection.InvokeAsync<System.Text.Json.JsonElement>("GetAgent");
            }
            catch (HubException ex)
            {
                refusals.Add(ex.Message);
            }
        }

        Assert.NotEmpty(refusals);
        Assert.All(refusals, m => Assert.Contains("Too many requests", m, StringComparison.Ordinal));
        Assert.Equal(HubConnectionState.Connected, connection.State);
    }
}
