using RoutingCluster.Client;
using RoutingCluster.SiloHost.Access;

namespace RoutingCluster.Tests.Shared;

/// <summary>Token sources for the typed client and the desktop client in tests, signed like <see cref="TestTokens"/>.</summary>
public static class TestTokenSources
{
    /// <summary>Agent tokens for the agent a desktop signs in as.</summary>
    public static AccessTokenSource Agents { get; } = new AgentSource();

    /// <summary>Tokens with every role (<see cref="TestTokens.AllRoles"/>), for a typed client that does everything.</summary>
    public static AccessTokenSource AllRoles { get; } = new AllRolesSource();

    /// <summary>Desktop options with <see cref="Agents"/>.</summary>
    public static AgentDesktopOptions Desktop(AgentDesktopOptions? options = null) => (options ?? new AgentDesktopOptions()) with { AccessTokens = Agents };

    /// <summary>How many tokens <see cref="Agents"/> issued with a refresh asked for (after a lost connection or a 401).</summary>
    public static int Refreshes => AgentSource.RefreshCount;

    private sealed class AgentSource : AccessTokenSource
    {
        public static int RefreshCount;

        public override ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken)
        {
            if (request.Refresh)
            {
                Interlocked.Increment(ref RefreshCount);
            }

            return ValueTask.FromResult(TestTokens.For(request.AgentId ?? "no-agent", [Roles.Agent], request.AgentId));
        }
    }

    private sealed class AllRolesSource : AccessTokenSource
    {
        public override ValueTask<string> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TestTokens.AllRoles(request.AgentId));
    }
}
