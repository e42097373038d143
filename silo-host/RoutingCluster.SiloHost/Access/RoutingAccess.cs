using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// Who may do what: bearer tokens (<c>Auth:Mode</c> dev or jwt), the policies of the contract's table, and token-bucket
/// rate limits per caller. Answers 401, 403 and 429 as problem details, in that order (authentication, then
/// authorization, then the rate limit, all before the endpoint reads its input), so a refused request changes nothing.
/// </summary>
public static class RoutingAccess
{
    /// <summary>The clock skew allowed on a token's lifetime.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>The routes open to anyone. Every other endpoint names a policy (a test holds the endpoint list to this).</summary>
    public static IReadOnlyList<string> AnonymousRoutes { get; } =
    [
        "/health/live", "/health/ready", "/openapi/{documentName}.json", "/scalar/{documentName?}",
        "/scalar/scalar.js", "/scalar/scalar.aspnetcore.js", "/scalar/favicon.svg", DevTokenApi.Path,
    ];

    public static WebApplicationBuilder AddRoutingAccess(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        builder.Services.Configure<RateLimitOptions>(configuration.GetSection(RateLimitOptions.Section));
        builder.Services.AddSingleton<EventStreamLimits>();
        var authentication = builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme);
        switch (auth.Mode)
        {
            case AuthModes.Dev:
                RefuseNonLoopbackUrls(configuration);
                var key = DevTokenIssuer.KeyFrom(auth.Dev.SigningKey, out var generated);
                builder.Services.AddSingleton(services => new DevTokenIssuer(key, services.GetService<TimeProvider>() ?? TimeProvider.System));
                if (generated)
                {
                    builder.Services.AddHostedService<DevKeyNotice>();
                }

                authentication.AddJwtBearer(options => Configure(options, new TokenValidationParameters
                {
                    ValidIssuer = DevTokenIssuer.Issuer,
                    ValidAudience = DevTokenIssuer.Audience,
                    IssuerSigningKey = key,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                }));
                break;
            case AuthModes.Jwt:
                var jwt = auth.Jwt;
                if (string.IsNullOrWhiteSpace(jwt.Audience))
                {
                    throw new InvalidOperationException("Auth:Mode is jwt: set Auth:Jwt:Audience, the audience the identity provider issues this cluster's tokens for.");
                }

                if (string.IsNullOrWhiteSpace(jwt.Authority) && jwt.SigningKeys.Count == 0)
                {
                    throw new InvalidOperationException("Auth:Mode is jwt: set Auth:Jwt:Authority (the identity provider's issuer URL) or Auth:Jwt:SigningKeys (its public keys, PEM).");
                }

                if (string.IsNullOrWhiteSpace(jwt.Authority) && string.IsNullOrWhiteSpace(jwt.Issuer))
                {
                    throw new InvalidOperationException("Auth:Mode is jwt with Auth:Jwt:SigningKeys: set Auth:Jwt:Issuer, the issuer (iss) of the provider's tokens.");
                }

                var keys = jwt.SigningKeys.Select(PublicKey).ToList();
                authentication.AddJwtBearer(options =>
                {
                    if (!string.IsNullOrWhiteSpace(jwt.Authority))
                    {
                        options.Authority = jwt.Authority;
                        options.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
                    }

                    Configure(options, new TokenValidationParameters
                    {
                        ValidIssuer = jwt.Issuer,
                        ValidAudience = jwt.Audience,
                        IssuerSigningKeys = keys.Count > 0 ? keys : null,
                        ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256],
                    });
                });
                break;
            default:
                throw new InvalidOperationException($"Auth:Mode is '{auth.Mode}': use dev (the default) or jwt.");
        }

        builder.Services.AddSingleton<IAuthorizationHandler, AccessRequirementHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, AccessResultHandler>();
        builder.Services.AddAuthorization(AccessPolicies.Add);
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, RoutingClock>((options, limits, clock) =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, limits.Value, clock.Time));
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = RejectAsync;
        });
        builder.Services.Configure<HubOptions>(hubs => hubs.AddFilter<HubRateLimitFilter>());
        return builder;
    }

    /// <summary>Authentication, authorization and rate limiting, in that order, then <c>POST /auth/dev-token</c> in dev mode.</summary>
    public static WebApplication UseRoutingAccess(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        if (app.Services.GetService<DevTokenIssuer>() is not null)
        {
            app.MapDevTokenApi();
        }

        return app;
    }

    private static void Configure(JwtBearerOptions options, TokenValidationParameters parameters)
    {
        options.MapInboundClaims = false;
        parameters.ClockSkew = ClockSkew;
        parameters.NameClaimType = AccessClaims.Subject;
        parameters.RoleClaimType = AccessClaims.Roles;
        parameters.RequireExpirationTime = true;
        parameters.RequireSignedTokens = true;
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.ValidateLifetime = true;
        parameters.ValidateIssuerSigningKey = true;
        options.TokenValidationParameters = parameters;
        options.Events = new JwtBearerEvents
        {
            // Browsers cannot set headers on WebSockets and server-sent events: hubs and a session's event stream take
            // the token as the access_token query parameter too.
            OnMessageReceived = context =>
            {
                if (context.Request.Query["access_token"] is [{ Length: > 0 } token] && TakesQueryToken(context.Request))
                {
                    context.Token = token;
                }

                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var header = "Bearer";
                if (!string.IsNullOrEmpty(context.Error))
                {
                    header += $" error=\"{context.Error}\"";
                    if (!string.IsNullOrEmpty(context.ErrorDescription))
                    {
                        header += $", error_description=\"{context.ErrorDescription.Replace("\"", "'", StringComparison.Ordinal)}\"";
                    }
                }

                context.Response.Headers.WWWAuthenticate = header;
                var detail = context.AuthenticateFailure is null
                    ? "A bearer token is needed (Authorization: Bearer <JWT>)."
                    : context.AuthenticateFailure is SecurityTokenExpiredException
                        ? "The bearer token has expired."
                        : "The bearer token is not valid (signature, issuer, audience or algorithm).";
                AccessResultHandler.RecordRefusal(context.HttpContext, detail);
                await AccessResultHandler.WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Unauthorized", detail);
            },
        };
    }

    private static bool TakesQueryToken(HttpRequest request) =>
        request.Path.StartsWithSegments("/hubs", StringComparison.Ordinal)
        || (request.Path.StartsWithSegments("/v1/sessions", StringComparison.Ordinal) && request.Path.Value!.EndsWith("/events", StringComparison.Ordinal));

    private static SecurityKey PublicKey(string pem)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            var ecdsa = ECDsa.Create();
            try
            {
                ecdsa.ImportFromPem(pem);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException("Auth:Jwt:SigningKeys holds a key that is neither an RSA nor an EC public key in PEM.", ex);
            }

            return new ECDsaSecurityKey(ecdsa);
        }
    }

    /// <summary>
    /// A host in dev mode listens on loopback addresses only: anyone who can reach it may ask for any token. Checks the
    /// configured URLs (<c>urls</c>, <c>Kestrel:Endpoints</c>) before anything starts.
    /// </summary>
    private static void RefuseNonLoopbackUrls(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        foreach (var url in urls)
        {
            if (!IsLoopback(url))
            {
                throw new InvalidOperationException(
                    $"Auth:Mode is dev, which issues tokens to anyone who asks, so the host listens on loopback addresses only; '{url}' is not one. "
                    + "Listen on 127.0.0.1 or [::1] (--urls http://127.0.0.1:5000), or run with Auth:Mode=jwt behind the bank's identity provider (docs/security.md).");
            }
        }
    }

    internal static bool IsLoopback(string url)
    {
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        var end = rest.IndexOf('/', StringComparison.Ordinal);
        var hostPort = end < 0 ? rest : rest[..end];
        string host;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? hostPort : hostPort[1..close];
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort[..colon];
        }

        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>The caller's bucket: per gateway (<c>client_id</c>), per agent (<c>agent_id</c>), or per <c>sub</c>;
    /// none for anonymous routes and callers (they are refused with 401 before this, or need no token).</summary>
    private static RateLimitPartition<string> Partition(HttpContext context, RateLimitOptions limits, TimeProvider time)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true || context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        var (key, bucket) = user.IsInRole(Roles.Gateway) ? ("gateway " + AccessClaims.GatewayOf(user), limits.Gateway)
            : user.IsInRole(Roles.Agent) && AccessClaims.AgentIdOf(user) is { } agent ? ("agent " + agent, limits.Agent)
            : ("sub " + AccessClaims.SubjectOf(user), limits.Other);
        return RateLimitPartition.Get(key, _ => new ClockTokenBucket(bucket, time));
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RoutingAccess));
        AccessLog.RateLimited(logger, PartitionName(context.User), context.Request.Method, AccessResultHandler.RouteOf(context));
        await AccessResultHandler.WriteProblemAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"The rate limit of {PartitionName(context.User)} is exceeded: retry after {seconds} s.");
    }

    private static string PartitionName(System.Security.Claims.ClaimsPrincipal user) =>
        user.IsInRole(Roles.Gateway) ? $"gateway {AccessClaims.GatewayOf(user)}"
        : user.IsInRole(Roles.Agent) && AccessClaims.AgentIdOf(user) is { } agent ? $"agent {agent}"
        : $"{AccessClaims.SubjectOf(user)}";

    /// <summary>Warns at start that the dev key is random (<c>Auth:Dev:SigningKey</c> unset).</summary>
    private sealed class DevKeyNotice(ILogger<DevKeyNotice> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            AccessLog.DevSigningKeyGenerated(logger);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
