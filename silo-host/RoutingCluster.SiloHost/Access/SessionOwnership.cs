using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// A session belongs to the gateway (<c>client_id</c>) that created it, and its id says so: <c>s-</c>, 32 hex digits
/// (a version-7 GUID, or a hash of the gateway and its idempotency key), and a 16-hex-digit owner tag, the SHA-256 of
/// the gateway and the first part. A gateway's token cannot name another gateway, so it cannot present an id whose tag
/// is its own unless it created the session; no lookup is needed to tell. For another gateway the session does not
/// exist (404). Idempotency keys are per gateway: the same key from two gateways gives two ids.
/// </summary>
public static class SessionOwnership
{
    private const int BodyLength = 32;
    private const int TagLength = 16;

    /// <summary>A new session id of <paramref name="gateway"/> (time-ordered, so ids sort by creation).</summary>
    public static string NewSessionId(string gateway) => WithTag(Guid.CreateVersion7().ToString("N"), gateway);

    /// <summary>The session id for <paramref name="gateway"/>'s idempotency key <paramref name="key"/>.</summary>
    public static string SessionIdForKey(string gateway, string key) =>
        WithTag(Hex(Encoding.UTF8.GetBytes($"{gateway.Length}:{gateway}\n{key}"), BodyLength), gateway);

    /// <summary>Whether <paramref name="sessionId"/> was created by <paramref name="gateway"/>.</summary>
    public static bool IsOwnedBy(string sessionId, string gateway) =>
        sessionId.Length == 2 + BodyLength + TagLength
        && sessionId.StartsWith("s-", StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Tag(sessionId.Substring(2, BodyLength), gateway)),
            Encoding.ASCII.GetBytes(sessionId[(2 + BodyLength)..]));

    /// <summary>Whether <paramref name="user"/> may see session <paramref name="sessionId"/>: support and supervisors
    /// every session (when <paramref name="readersSeeAll"/>), a gateway its own.</summary>
    public static bool MaySee(ClaimsPrincipal user, string sessionId, bool readersSeeAll) =>
        (readersSeeAll && (user.IsInRole(Roles.Support) || user.IsInRole(Roles.Supervisor)))
        || (user.IsInRole(Roles.Gateway) && AccessClaims.GatewayOf(user) is { } gateway && IsOwnedBy(sessionId, gateway));

    private static string WithTag(string body, string gateway) => "s-" + body + Tag(body, gateway);

    private static string Tag(string body, string gateway) =>
        Hex(Encoding.UTF8.GetBytes($"routing-cluster session owner\n{gateway.Length}:{gateway}\n{body}"), TagLength);

    private static string Hex(byte[] data, int digits) => Convert.ToHexStringLower(SHA256.HashData(data).AsSpan(0, digits / 2));
}

/// <summary>Answers 404 for a session the caller may not see (another gateway's), exactly as for one that does not exist.</summary>
public sealed class OwnSessionsOnly(bool readersSeeAll) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var id = context.HttpContext.GetRouteValue("id") as string ?? string.Empty;
        return SessionOwnership.MaySee(context.HttpContext.User, id, readersSeeAll)
            ? next(context)
            : ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"Session '{id}' does not exist."));
    }
}
