using Microsoft.AspNetCore.Authorization;

namespace RoutingCluster.SiloHost.Access;

/// <summary>Which agent tokens a policy lets through besides its roles.</summary>
public enum AgentScope
{
    /// <summary>None (unless the token has one of the roles).</summary>
    None,

    /// <summary>An agent token acting for the agent of the route's <c>{id}</c> ("itself").</summary>
    RouteAgent,

    /// <summary>Any agent token that names its agent (<c>agent_id</c>); the endpoint checks what that agent may touch.</summary>
    AnyAgent,
}

/// <summary>One of <see cref="Roles"/>, or an agent token as <see cref="Agents"/> says.</summary>
public sealed class AccessRequirement(IReadOnlyList<string> roles, AgentScope agents) : IAuthorizationRequirement
{
    public IReadOnlyList<string> Roles { get; } = roles;

    public AgentScope Agents { get; } = agents;

    /// <summary>What a caller needs, as the 403 says it: "needs role admin", "needs one of the roles supervisor,
    /// analyst", "needs role agent (itself) or supervisor".</summary>
    public string Needs()
    {
        var names = Roles.ToList();
        if (Agents == AgentScope.RouteAgent)
        {
            names.Insert(0, "agent (itself)");
        }
        else if (Agents == AgentScope.AnyAgent)
        {
            names.Insert(0, "agent (with agent_id)");
        }

        return names.Count == 1 ? $"needs role {names[0]}" : $"needs one of the roles {string.Join(", ", names)}";
    }
}

/// <summary>
/// Decides an <see cref="AccessRequirement"/>: a role from its list passes; an agent token passes when it acts for
/// the agent of the route's <c>{id}</c> (or names any agent, for <see cref="AgentScope.AnyAgent"/>). A refusal says
/// why ("acts for agent a-1, not a-2"); the 403 carries it.
/// </summary>
public sealed class AccessRequirementHandler : AuthorizationHandler<AccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AccessRequirement requirement)
    {
        var user = context.User;
        if (requirement.Roles.Any(user.IsInRole))
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        if (requirement.Agents != AgentScope.None && user.IsInRole(Access.Roles.Agent))
        {
            var own = AccessClaims.AgentIdOf(user);
            if (own is null)
            {
                context.Fail(new AuthorizationFailureReason(this, "the agent token names no agent_id"));
                return Task.CompletedTask;
            }

            var target = (context.Resource as HttpContext)?.GetRouteValue("id") as string;
            if (requirement.Agents == AgentScope.AnyAgent || string.Equals(own, target, StringComparison.Ordinal))
            {
                context.Succeed(requirement);
                return Task.CompletedTask;
            }

            context.Fail(new AuthorizationFailureReason(this, $"acts for agent {own}, not {target}"));
            return Task.CompletedTask;
        }

        context.Fail(new AuthorizationFailureReason(this, requirement.Needs()));
        return Task.CompletedTask;
    }
}
