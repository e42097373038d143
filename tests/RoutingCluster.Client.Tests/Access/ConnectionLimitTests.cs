using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Access;

/// <summary>
/// Limits on what a caller holds open on a silo: event streams per gateway (beyond: 429 with <c>Retry-After</c>, and the
/// place comes back when a stream closes) and desktop connections signed in per agent (beyond: the sign-in is refused).
/// </summary>
public sealed class ConnectionLimitTests : IAsyncLifetime
{
    private readonly SiloHostFactory _host = SiloHostFactory.Create(new SiloHostOptions
    {
        Kestrel = true,
        Settings = new Dictionary<string, string>
        {
            ["RateLimits:EventStreamsPerCaller"] = "2",
            ["RateLimits:DesktopConnectionsPerAgent"] = "1",
        },
    });

    private readonly string _queue = Ids.New("q");

    public async Task InitializeAsync()
    {
        using var admin = _host.CreateRoutingClient();
        await admin.PutQueueAsync(_queue, new QueueSettings());
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task AGatewayAtItsLimitOfEventStreams_Gets429WithRetryAfter_AnotherGatewayDoesNot_AndAClosedStreamGivesItsPlaceBack()
    {
        using var gateway = Client(TestTokens.GatewayToken("gw-streams"));
        using var other = Client(TestTokens.GatewayToken("gw-other"));
        var sessions = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            sessions.Add(await CreateSession(gateway));
        }

        var first = await Follow(gateway, sessions[0]);
        using var second = await Follow(gateway, sessions[1]);
        using var refused = await Follow(gateway, sessions[2]);
        using var elsewhere = await Follow(other, await CreateSession(other));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("gateway gw-streams holds 2 event streams", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);

        first.Dispose();
        var again = HttpStatusCode.TooManyRequests;
        for (var attempt = 0; attempt < 50 && again == HttpStatusCode.TooManyRequests; attempt++)
        {
            await Task.Delay(100);
            using var reply = await Follow(gateway, sessions[2]);
            again = reply.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, again);
    }

    [Fact]
    public async Task AnAgentAtItsLimitOfDesktopConnections_IsRefusedASecondSignIn_UntilTheFirstEnds()
    {
        var agent = Ids.New("a");
        using (var admin = _host.CreateRoutingClient())
        {
            await admin.PutAgentAsync(agent, new AgentProfile { Queues = [_queue] });
        }

        await using var first = Connect(agent);
        await using var second = Connect(agent);
        await first.StartAsync();
        await second.StartAsync();
        await first.InvokeAsync<System.Text.Json.JsonElement>("SignIn", agent);
        await first.InvokeAsync<System.Text.Json.JsonElement>("SignIn", agent); // signing in again on the same connection is no new one

        var refused = await Assert.ThrowsAsync<HubException>(() => second.InvokeAsync<System.Text.Json.JsonElement>("SignIn", agent));
        Assert.Contains("Too many desktop connections", refused.Message, StringComparison.Ordinal);

        await first.StopAsync();
        System.Text.Json.JsonElement? signedIn = null;
        for (var attempt = 0; attempt < 50 && signedIn is null; attempt++)
        {
            await Task.Delay(100);
            try
            {
                signedIn = await second.InvokeAsync<System.Text.Json.JsonElement>("SignIn", agent);
            }
            catch (HubException)
            {
                // The first connection's end is still being processed.
            }
        }

        Assert.Equal(agent, signedIn?.GetProperty("id").GetString());
    }

    private HubConnection Connect(string agent) => new HubConnectionBuilder()
        .WithUrl(new Uri(_host.BaseAddress, "hubs/agent"), http => http.AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Agent(agent)))
        .Build();

    private HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = _host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<string> CreateSession(HttpClient gateway)
    {
        using var reply = await gateway.PostAsync("v1/sessions", new StringContent(
            $$"""{ "queueId": "{{_queue}}", "channel": "chat", "customer": { "id": "c-limits" }, "skills": { "cards": 1 } }""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, reply.StatusCode);
        return System.Text.Json.JsonDocument.Parse(await reply.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    private static Task<HttpResponseMessage> Follow(HttpClient gateway, string session) =>
        gateway.GetAsync($"v1/sessions/{session}/events", HttpCompletionOption.ResponseHeadersRead);
}
