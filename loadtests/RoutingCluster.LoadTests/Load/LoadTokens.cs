using System.Collections.Concurrent;
using System.Net.Http.Headers;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// The driver's tokens, from the dev issuer of the hosts it drives (<c>POST /auth/dev-token</c>, dev mode, loopback):
/// one operator token per host (gateway <c>load-driver</c>, and admin, supervisor, analyst, sre for the setup, the
/// figures and /metrics), and an agent token per simulated desktop.
/// </summary>
public static class LoadTokens
{
    /// <summary>The gateway (<c>client_id</c>) the driver creates its sessions as.</summary>
    public const string Gateway = "load-driver";

    private static readonly string[] OperatorRoles = ["gateway", "admin", "supervisor", "analyst", "sre", "support"];

    private static readonly ConcurrentDictionary<Uri, AccessTokenSource> Operators = new();
    private static readonly ConcurrentDictionary<Uri, AccessTokenSource> AgentSources = new();

    /// <summary>The operator's tokens from <paramref name="target"/> (one source per host, its tokens cached).</summary>
    public static AccessTokenSource Operator(Uri target) =>
        Operators.GetOrAdd(target, t => new DevTokenSource(t, Gateway, OperatorRoles, clientId: Gateway));

    /// <summary>Agent tokens from <paramref name="target"/> for the agent each desktop signs in as.</summary>
    public static AccessTokenSource Agents(Uri target) => AgentSources.GetOrAdd(target, t => new DevTokenSource(t, null, ["agent"]));

    /// <summary>A typed client of <paramref name="target"/> with the operator's tokens.</summary>
    public static RoutingClient Client(Uri target) => new(target, new RoutingClientOptions { AccessTokens = Operator(target) });

    /// <summary>An HttpClient whose requests carry the operator's token of <paramref name="target"/>.</summary>
    public static HttpClient Http(Uri target, TimeSpan timeout) =>
        new(new BearerHandler(Operator(target)) { InnerHandler = new HttpClientHandler() }) { BaseAddress = target, Timeout = timeout };

    private sealed class BearerHandler(AccessTokenSource tokens) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(new AccessTokenRequest(null, false), cancellationToken).ConfigureAwait(false));
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }
}
