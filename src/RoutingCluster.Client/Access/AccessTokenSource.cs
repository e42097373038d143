using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoutingCluster.Client;

/// <summary>What a token is asked for: the agent a desktop signs in as (or null), and whether the last token was refused
/// (so a cached one must not be given again).</summary>
public readonly record struct AccessTokenRequest(string? AgentId, bool Refresh);

/// <summary>
/// Where a client gets its bearer tokens: a fixed token (<see cref="Static"/>), the dev issuer of a dev-mode host
/// (<see cref="DevTokenSource"/>), or an identity provider's OAuth 2.0 client-credentials grant
/// (<see cref="ClientCredentialsTokenSource"/>). <see cref="RoutingClient"/> and <see cref="AgentDesktopClient"/> ask
/// for a token before each request or connection and, after a 401, once more with <see cref="AccessTokenRequest.Refresh"/>.
/// </summary>
public abstract class AccessTokenSource
{
    /// <summary>A bearer token (without the <c>Bearer </c> prefix).</summary>
    public abstract ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken);

    /// <summary>Always the same token (one a gateway was given, or a test's). A refresh gives it again.</summary>
    public static AccessTokenSource Static(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        return new StaticSource(token);
    }

    private sealed class StaticSource(string token) : AccessTokenSource
    {
        public override ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken) => ValueTask.FromResult(token);
    }
}

/// <summary>
/// A token source that keeps each token until shortly before it expires (<see cref="RenewBefore"/>), one per agent
/// asked for; a refresh fetches a new one at once.
/// </summary>
public abstract class CachingTokenSource(TimeProvider? time = null) : AccessTokenSource
{
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> _tokens = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How long before its expiry a token is replaced: 60 s.</summary>
    public TimeSpan RenewBefore { get; init; } = TimeSpan.FromSeconds(60);

    public sealed override async ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken)
    {
        var key = request.AgentId ?? string.Empty;
        if (!request.Refresh && _tokens.TryGetValue(key, out var cached) && cached.ExpiresAt - RenewBefore > _time.GetUtcNow())
        {
            return cached.Token;
        }

        var fresh = await FetchAsync(request.AgentId, cancellationToken).ConfigureAwait(false);
        _tokens[key] = fresh;
        return fresh.Token;
    }

    /// <summary>A new token (for <paramref name="agentId"/> when the source issues per agent) and when it expires.</summary>
    protected abstract Task<(string Token, DateTimeOffset ExpiresAt)> FetchAsync(string? agentId, CancellationToken cancellationToken);
}

/// <summary>
/// Tokens from a dev-mode host's <c>POST /auth/dev-token</c> (loopback only). With <c>agentId</c> null and the role
/// <c>agent</c>, each token acts for the agent the desktop signs in as.
/// </summary>
public sealed class DevTokenSource : CachingTokenSource
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _subject;
    private readonly IReadOnlyList<string> _roles;
    private readonly string? _agentId;
    private readonly string? _clientId;
    private readonly int _lifetimeSeconds;

    /// <param name="baseAddress">The host (<c>http://127.0.0.1:5000/</c>).</param>
    /// <param name="subject">Who the token is for (<c>sub</c>); null: the agent asked for.</param>
    /// <param name="roles">The roles, for example <c>["gateway"]</c>.</param>
    /// <param name="agentId">The agent an agent token acts for; null: the agent asked for.</param>
    /// <param name="clientId">The gateway a gateway token is for; null: <paramref name="subject"/>.</param>
    /// <param name="lifetime">How long each token lives (default one hour).</param>
    /// <param name="handler">The transport (a test server's handler); null: a handler of its own.</param>
    public DevTokenSource(Uri baseAddress, string? subject, IReadOnlyList<string> roles, string? agentId = null, string? clientId = null,
        TimeSpan? lifetime = null, HttpMessageHandler? handler = null, TimeProvider? time = null)
        : base(time)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(roles);
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _endpoint = new Uri(baseAddress, "auth/dev-token");
        _subject = subject ?? string.Empty;
        _roles = roles;
        _agentId = agentId;
        _clientId = clientId;
        _lifetimeSeconds = (int)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds;
    }

    protected override async Task<(string Token, DateTimeOffset ExpiresAt)> FetchAsync(string? agentId, CancellationToken cancellationToken)
    {
        var agent = _agentId ?? agentId;
        var subject = _subject.Length > 0 ? _subject : agent ?? throw new InvalidOperationException("DevTokenSource: give a subject, or ask for an agent's token.");
        using var response = await _http.PostAsJsonAsync(_endpoint, new DevTokenBody(subject, _roles, agent, _clientId, _lifetimeSeconds), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST {_endpoint.AbsolutePath}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}", null, response.StatusCode);
        }

        var token = await response.Content.ReadFromJsonAsync<DevTokenAnswer>(cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The dev-token answer had no body.");
        return (token.AccessToken, token.ExpiresAt);
    }

    private sealed record DevTokenBody(
        [property: JsonPropertyName("subject")] string Subject,
        [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
        [property: JsonPropertyName("agentId")] string? AgentId,
        [property: JsonPropertyName("clientId")] string? ClientId,
        [property: JsonPropertyName("lifetimeSeconds")] int LifetimeSeconds);

    private sealed record DevTokenAnswer(
        [property: JsonPropertyName("accessToken")] string AccessToken,
        [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt);
}

/// <summary>
/// Tokens from an identity provider's token endpoint by the OAuth 2.0 client-credentials grant (RFC 6749 §4.4): a
/// gateway or a service authenticates with its client id and secret.
/// </summary>
public sealed class ClientCredentialsTokenSource : CachingTokenSource
{
    private readonly HttpClient _http;
    private readonly Uri _tokenEndpoint;
    private readonly string _clientId;
    private readonly string _clientSecret;
    private readonly string? _scope;
    private readonly TimeProvider _time;

    public ClientCredentialsTokenSource(Uri tokenEndpoint, string clientId, string clientSecret, string? scope = null,
        HttpMessageHandler? handler = null, TimeProvider? time = null)
        : base(time)
    {
        ArgumentNullException.ThrowIfNull(tokenEndpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientSecret);
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _tokenEndpoint = tokenEndpoint;
        _clientId = clientId;
        _clientSecret = clientSecret;
        _scope = scope;
        _time = time ?? TimeProvider.System;
    }

    protected override async Task<(string Token, DateTimeOffset ExpiresAt)> FetchAsync(string? agentId, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (_scope is not null)
        {
            form["scope"] = _scope;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _tokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(_clientId)}:{Uri.EscapeDataString(_clientSecret)}")));
        var sent = _time.GetUtcNow();
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Token endpoint {_tokenEndpoint}: {(int)response.StatusCode}", null, response.StatusCode);
        }

        var answer = await response.Content.ReadFromJsonAsync<TokenAnswer>(cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The token endpoint's answer had no body.");
        return (answer.AccessToken, sent + TimeSpan.FromSeconds(answer.ExpiresIn ?? 300));
    }

    private sealed record TokenAnswer(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);
}
