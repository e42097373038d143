using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.SiloHost.Access;

namespace RoutingCluster.Benchmarks.Access;

/// <summary>
/// What access control costs per request: the host's own authentication (a dev-mode JWT, HS256, validated on every
/// request), authorization (the contract's policies, with the route's agent checked against the token's) and the
/// per-caller token bucket, in front of a handler that does nothing, against the same handler on an anonymous route
/// (<see cref="Anonymous"/>, the baseline). In process (<see cref="TestServer"/>): no sockets, so the difference is the
/// access pipeline alone. A session lifecycle makes four such requests (the gateway's create, the agent's accept, end
/// and wrap-up-done); desktop hub invocations pass the rate limiter only (the token is checked when the hub connects).
/// </summary>
[MemoryDiagnoser]
public class AccessPipelineBenchmarks
{
    private const string SigningKey = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private string _gatewayToken = null!;
    private string _agentToken = null!;
    private PartitionedRateLimiter<HttpContext> _limiter = null!;
    private HttpContext _hubConnection = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration["Auth:Dev:SigningKey"] = SigningKey;
        foreach (var caller in new[] { "Gateway", "Agent", "Other" })
        {
            builder.Configuration[$"RateLimits:{caller}:PerSecond"] = "100000000";
            builder.Configuration[$"RateLimits:{caller}:Burst"] = "100000000";
        }

        builder.Services.AddSingleton(new RoutingClock(TimeProvider.System));
        builder.Services.AddProblemDetails();
        builder.AddRoutingAccess();
        _app = builder.Build();
        _app.UseRoutingAccess();
        _app.MapPost("/open", () => Results.Ok()).AllowAnonymous();
        _app.MapPost("/v1/sessions", () => Results.Ok()).RequireAuthorization(AccessPolicies.CreateSessions);
        _app.MapPost("/v1/agents/{id}/offers/{sessionId}/accept", () => Results.Ok()).RequireAuthorization(AccessPolicies.AgentItself);
        ClaimsPrincipal? agent = null;
        _app.MapPost("/v1/agents/{id}/whoami", (HttpContext context) =>
        {
            agent = context.User;
            return Results.Ok();
        }).RequireAuthorization(AccessPolicies.AgentItself);
        await _app.StartAsync();
        _client = _app.GetTestClient();

        var issuer = new DevTokenIssuer(new SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), TimeProvider.System);
        _gatewayToken = issuer.Issue("gw-1", [Roles.Gateway], null, "gw-1", TimeSpan.FromHours(1)).AccessToken;
        _agentToken = issuer.Issue("a-1", [Roles.Agent], "a-1", null, TimeSpan.FromHours(1)).AccessToken;

        // A desktop's hub connection: the principal its token gave when it connected, and the host's limiter.
        await Send("/v1/agents/a-1/whoami", _agentToken);
        _hubConnection = new DefaultHttpContext { User = agent ?? throw new InvalidOperationException("No principal captured.") };
        _limiter = _app.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter
            ?? throw new InvalidOperationException("The host has no global rate limiter.");
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    /// <summary>The baseline: an anonymous route (no token read, no policy, no bucket).</summary>
    [Benchmark(Baseline = true)]
    public Task<int> Anonymous() => Send("/open", token: null);

    /// <summary>A gateway's <c>POST /v1/sessions</c>: token, role, the gateway's bucket.</summary>
    [Benchmark]
    public Task<int> Gateway() => Send("/v1/sessions", _gatewayToken);

    /// <summary>An agent's action: token, role, the route's agent against the token's, the agent's bucket.</summary>
    [Benchmark]
    public Task<int> Agent() => Send("/v1/agents/a-1/offers/s-1/accept", _agentToken);

    /// <summary>
    /// What a desktop's hub invocation (accept, end, wrap-up-done) pays for access: the agent's token bucket only, as
    /// <see cref="HubRateLimitFilter"/> takes it (the token was validated once, when the hub connected).
    /// </summary>
    [Benchmark]
    public bool HubInvocationBucket()
    {
        using var lease = _limiter.AttemptAcquire(_hubConnection);
        return lease.IsAcquired;
    }

    private async Task<int> Send(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _client.SendAsync(request);
        return response.StatusCode == System.Net.HttpStatusCode.OK
            ? 200
            : throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
