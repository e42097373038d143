namespace RoutingCluster.SiloHost.Access;

/// <summary>How callers prove who they are (<c>Auth</c> section).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary><c>dev</c> (the default: tokens this host signs itself, loopback only) or <c>jwt</c> (tokens from the
    /// bank's identity provider).</summary>
    public string Mode { get; set; } = AuthModes.Dev;

    public DevAuthOptions Dev { get; set; } = new();

    public JwtAuthOptions Jwt { get; set; } = new();
}

public static class AuthModes
{
    public const string Dev = "dev";
    public const string Jwt = "jwt";
}

/// <summary><c>Auth:Dev</c>: the HS256 key the host signs and checks dev tokens with.</summary>
public sealed class DevAuthOptions
{
    /// <summary>Base64, at least 32 bytes. Unset: a random key per process (a warning at start); several silos that
    /// should accept each other's tokens share one key.</summary>
    public string? SigningKey { get; set; }
}

/// <summary><c>Auth:Jwt</c>: tokens from the identity provider, validated offline.</summary>
public sealed class JwtAuthOptions
{
    /// <summary>The provider's issuer URL: its signing keys are read from its OpenID discovery document (and cached,
    /// so tokens keep being validated while the provider is down).</summary>
    public string? Authority { get; set; }

    /// <summary>The provider's public keys (PEM, RSA or EC), for validation without any call to the provider.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>The expected issuer (<c>iss</c>); with <see cref="Authority"/> the discovery document's when unset.</summary>
    public string? Issuer { get; set; }

    /// <summary>The expected audience (<c>aud</c>). Required.</summary>
    public string? Audience { get; set; }

    /// <summary>Whether the authority must be https (off only for a test provider on the same machine).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}

/// <summary><c>RateLimits</c>: token buckets per caller.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Per gateway (<c>client_id</c>): 200/s, burst 400.</summary>
    public TokenBucket Gateway { get; set; } = new() { PerSecond = 200, Burst = 400 };

    /// <summary>Per agent (<c>agent_id</c>): 10/s, burst 20.</summary>
    public TokenBucket Agent { get; set; } = new() { PerSecond = 10, Burst = 20 };

    /// <summary>Everyone else, per <c>sub</c>: 20/s, burst 50.</summary>
    public TokenBucket Other { get; set; } = new() { PerSecond = 20, Burst = 50 };

    /// <summary>Event streams (<c>GET /v1/sessions/{id}/events</c>) one gateway (<c>client_id</c>; anyone else: its
    /// <c>sub</c>) may hold open at once on one silo: 10,000.</summary>
    public int EventStreamsPerCaller { get; set; } = 10_000;

    /// <summary>Desktop connections signed in as one agent at once on one silo: 3 (a desktop, and room for one that
    /// reconnects before the silo noticed the old connection drop).</summary>
    public int DesktopConnectionsPerAgent { get; set; } = 3;
}

/// <summary>A token bucket: <see cref="PerSecond"/> tokens added each second, up to <see cref="Burst"/>.</summary>
public sealed class TokenBucket
{
    public int PerSecond { get; set; }

    public int Burst { get; set; }
}
