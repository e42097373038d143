using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Access;

/// <summary>Signs dev-mode tokens (HS256) with the host's dev key; the same key validates them.</summary>
public sealed class DevTokenIssuer(SymmetricSecurityKey key, TimeProvider time)
{
    public const string Issuer = "routing-cluster-dev";
    public const string Audience = "routing-cluster";

    /// <summary>The longest lifetime a dev token may ask for: one day.</summary>
    public const int MaxLifetimeSeconds = 86_400;

    public SymmetricSecurityKey Key { get; } = key;

    /// <summary>A token for <paramref name="subject"/> with <paramref name="roles"/>, valid from now for <paramref name="lifetime"/>.</summary>
    public DevToken Issue(string subject, IReadOnlyList<string> roles, string? agentId, string? clientId, TimeSpan lifetime)
    {
        var now = time.GetUtcNow();
        return Issue(subject, roles, agentId, clientId, now, now + lifetime);
    }

    /// <summary>A token valid from <paramref name="notBefore"/> to <paramref name="expires"/>.</summary>
    public DevToken Issue(string subject, IReadOnlyList<string> roles, string? agentId, string? clientId, DateTimeOffset notBefore, DateTimeOffset expires)
    {
        var claims = new Dictionary<string, object>
        {
            [AccessClaims.Subject] = subject,
            [AccessClaims.Roles] = roles.ToArray(),
        };
        if (agentId is not null)
        {
            claims[AccessClaims.AgentId] = agentId;
        }

        if (clientId is not null)
        {
            claims[AccessClaims.ClientId] = clientId;
        }

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            IssuedAt = notBefore.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
        return new DevToken(token, expires);
    }

    /// <summary>The dev key from <c>Auth:Dev:SigningKey</c> (base64, at least 32 bytes), or a random one when unset.</summary>
    /// <exception cref="InvalidOperationException">The key is set but not base64 or shorter than 32 bytes.</exception>
    public static SymmetricSecurityKey KeyFrom(string? configured, out bool generated)
    {
        generated = string.IsNullOrWhiteSpace(configured);
        if (generated)
        {
            return new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(configured!);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("Auth:Dev:SigningKey must be base64 (at least 32 bytes), for example the output of `openssl rand -base64 32`.");
        }

        return bytes.Length >= 32
            ? new SymmetricSecurityKey(bytes)
            : throw new InvalidOperationException($"Auth:Dev:SigningKey holds {bytes.Length} bytes; it needs at least 32 (`openssl rand -base64 32`).");
    }
}

public sealed record DevToken(string AccessToken, DateTimeOffset ExpiresAt);

/// <summary><c>POST /auth/dev-token</c>'s body.</summary>
public sealed class DevTokenRequest : IRequestBody
{
    public string? Subject { get; init; }

    public IReadOnlyList<string>? Roles { get; init; }

    public string? AgentId { get; init; }

    public string? ClientId { get; init; }

    public int? LifetimeSeconds { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        errors.Id("subject", Subject, required: true);
        if (Roles is null || Roles.Count == 0)
        {
            errors.Add("roles", "At least one role.");
        }
        else if (Roles.FirstOrDefault(r => !Access.Roles.All.Contains(r)) is { } unknown)
        {
            errors.Add("roles", $"Unknown role '{unknown}': one of {string.Join(", ", Access.Roles.All)}.");
        }

        errors.Id("agentId", AgentId, required: Roles?.Contains(Access.Roles.Agent) == true);
        errors.Id("clientId", ClientId);
        if (LifetimeSeconds is < 1 or > DevTokenIssuer.MaxLifetimeSeconds)
        {
            errors.Add("lifetimeSeconds", $"Must be 1 to {DevTokenIssuer.MaxLifetimeSeconds}.");
        }
    }
}

public static class DevTokenApi
{
    public const string Path = "/auth/dev-token";

    /// <summary>Maps <c>POST /auth/dev-token</c> (dev mode only): answers callers on this machine only.</summary>
    public static IEndpointConventionBuilder MapDevTokenApi(this WebApplication app) =>
        app.MapPost(Path, IssueDevToken).WithName(nameof(IssueDevToken))
            .AddEndpointFilter<InputValidationFilter>()
            .AllowAnonymous()
            .WithTags("Access")
            .WithSummary("Issue a dev-mode token (loopback callers only)")
            .WithDescription("Dev mode only. 403 for a caller that is not on this machine.")
            .ProducesProblem(StatusCodes.Status403Forbidden);

    public static Results<Ok<DevToken>, ValidationProblem, ProblemHttpResult> IssueDevToken(
        JsonBody<DevTokenRequest> body, HttpContext context, DevTokenIssuer issuer, ILogger<DevTokenIssuer> logger)
    {
        if (context.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Dev tokens are issued to callers on this machine (loopback) only.");
        }

        var request = body.Value;
        var token = issuer.Issue(request.Subject!, [.. request.Roles!.Distinct(StringComparer.Ordinal)], request.AgentId, request.ClientId,
            TimeSpan.FromSeconds(request.LifetimeSeconds ?? 3600));
        AccessLog.DevTokenIssued(logger, request.Subject!, string.Join(",", request.Roles!));
        return TypedResults.Ok(token);
    }
}
