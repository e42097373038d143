using System.Security.Claims;

namespace RoutingCluster.SiloHost.Api;

/// <summary>What a supervisor does in an agent's place: the caller's identity decides whether a state change is the
/// agent's own choice or forced by a supervisor.</summary>
public static class Supervision
{
    public const string SupervisorRole = "supervisor";

    /// <summary>The supervisor (its <c>sub</c>) when <paramref name="user"/> acts as a supervisor on agent
    /// <paramref name="agentId"/>, that is has the supervisor role and is not that agent itself; null otherwise.</summary>
    public static string? SupervisorActingFor(ClaimsPrincipal user, string agentId)
    {
        if (!HasRole(user, SupervisorRole))
        {
            return null;
        }

        if (HasRole(user, "agent") && string.Equals(user.FindFirstValue("agent_id"), agentId, StringComparison.Ordinal))
        {
            return null; // a supervisor who is also this agent chooses its own state
        }

        return user.FindFirstValue("sub") ?? user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity?.Name ?? SupervisorRole;
    }

    private static bool HasRole(ClaimsPrincipal user, string role) => user.IsInRole(role) || user.HasClaim("roles", role);
}
