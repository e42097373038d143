using System.Net.Http.Headers;
using Microsoft.IdentityModel.Tokens;
using RoutingCluster.SiloHost.Access;

namespace RoutingCluster.Tests.Shared;

/// <summary>
/// Dev-mode tokens for tests, signed with the key every test host is given (<see cref="Settings"/>), so tests speak
/// to a host as its callers do: with a bearer token. <see cref="Handler"/> gives each request a token of its own.
/// </summary>
public static class TestTokens
{
    /// <summary>The dev signing key of test hosts (<c>Auth:Dev:SigningKey</c>); a test key, used nowhere else.</summary>
    public const string SigningKey = "eP0XNOTmA6QkK6p2kstq8EcagurdHsgxBI3Y4zepCbA=";

    /// <summary>The gateway (<c>client_id</c>) of the tokens <see cref="Handler"/> and <see cref="AllRoles"/> issue.</summary>
    public const string Gateway = "test-gateway";

    private static readonly DevTokenIssuer Issuer = new(new SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), TimeProvider.System);

    /// <summary>The pseudonym key of test hosts (<c>Privacy:PseudonymKey</c>): one for every host, in this process and
    /// in the silo processes tests start, as the silos of one cluster share one. A test key, used nowhere else.</summary>
    public const string PseudonymKey = "q3Jd0VwC1m7yq8mZ2aT5bPp8kXo4Hh6nW9eRr2sLtUc=";

    /// <summary>What every test host is configured with: the dev key, the pseudonym key, and rate limits no functional
    /// test reaches (the rate-limit tests set their own).</summary>
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Auth:Dev:SigningKey"] = SigningKey,
        ["Privacy:PseudonymKey"] = PseudonymKey,
        ["RateLimits:Gateway:PerSecond"] = "1000000",
        ["RateLimits:Gateway:Burst"] = "1000000",
        ["RateLimits:Agent:PerSecond"] = "1000000",
        ["RateLimits:Agent:Burst"] = "1000000",
        ["RateLimits:Other:PerSecond"] = "1000000",
        ["RateLimits:Other:Burst"] = "1000000",
    };

    /// <summary>The same settings as command-line arguments (<c>--Auth:Dev:SigningKey=...</c>) for a host process.</summary>
    public static IEnumerable<string> Arguments => Settings.Select(s => $"--{s.Key}={s.Value}");

    /// <summary>A token for <paramref name="subject"/> with <paramref name="roles"/>.</summary>
    public static string For(string subject, IReadOnlyList<string> roles, string? agentId = null, string? clientId = null, TimeSpan? lifetime = null) =>
        Issuer.Issue(subject, roles, agentId, clientId, lifetime ?? TimeSpan.FromHours(1)).AccessToken;

    /// <summary>A token valid from <paramref name="notBefore"/> to <paramref name="expires"/> (an expired one, say).</summary>
    public static string Between(string subject, IReadOnlyList<string> roles, DateTimeOffset notBefore, DateTimeOffset expires, string? agentId = null) =>
        Issuer.Issue(subject, roles, agentId, null, notBefore, expires).AccessToken;

    /// <summary>An agent's token: acts for <paramref name="agentId"/> only.</summary>
    public static string Agent(string agentId) => For(agentId, [Roles.Agent], agentId);

    /// <summary>A gateway's token (<c>client_id</c> <paramref name="clientId"/>).</summary>
    public static string GatewayToken(string clientId = Gateway) => For(clientId, [Roles.Gateway], clientId: clientId);

    /// <summary>A token with every role, acting for <paramref name="agentId"/> as agent and for <see cref="Gateway"/> as gateway.</summary>
    public static string AllRoles(string? agentId = null) => For("test", Roles.All, agentId, Gateway);

    /// <summary>A handler that gives each request a token with every role: as gateway <see cref="Gateway"/>, and as agent
    /// the agent of the path (<c>/v1/agents/{id}/...</c>), so tests written before tokens keep speaking as before.
    /// A request that already carries an Authorization header keeps it.</summary>
    public static DelegatingHandler Handler(HttpMessageHandler? inner = null) => inner is null ? new AllRolesHandler() : new AllRolesHandler { InnerHandler = inner };

    /// <summary>An HttpClient for a host on Kestrel with <see cref="Handler"/>.</summary>
    public static HttpClient Client(Uri baseAddress, TimeSpan? timeout = null) =>
        new(Handler(new HttpClientHandler())) { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(100) };

    /// <summary>The agent a path acts on: <c>/v1/agents/{id}...</c>, or null.</summary>
    public static string? AgentOfPath(string path)
    {
        const string prefix = "/v1/agents/";
        var at = path.IndexOf(prefix, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = path[(at + prefix.Length)..];
        var end = rest.IndexOfAny(['/', '?']);
        return Uri.UnescapeDataString(end < 0 ? rest : rest[..end]);
    }

    private sealed class AllRolesHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Headers.Authorization is null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AllRoles(AgentOfPath(request.RequestUri?.AbsolutePath ?? string.Empty)));
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
