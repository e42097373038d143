using System.Collections.Concurrent;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.Grains.Tests;

/// <summary>
/// An agent desktop as the host's relay is to the agent grain: it collects the pushed updates and says when an offer
/// was shown (when it was made, on the routing clock, unless <see cref="NeverShown"/>).
/// </summary>
public sealed class FakeDesktop : IAgentDesktopObserver
{
    /// <summary>Observer references are weak: the desktops must outlive the tests that registered them.</summary>
    private static readonly ConcurrentBag<FakeDesktop> KeepAlive = [];

    private readonly Mailbox<AgentUpdate> _mailbox = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _shown = new(StringComparer.Ordinal);

    public FakeDesktop() => KeepAlive.Add(this);

    /// <summary>A desktop whose pushes never arrive in time (a relay far behind).</summary>
    public bool NeverShown { get; set; }

    public IAgentDesktopObserver Reference(RoutingClusterFixture fx) => fx.Cluster.Client.CreateObjectReference<IAgentDesktopObserver>(this);

    public Task OnAgentUpdateAsync(AgentUpdate update)
    {
        _mailbox.Add(update);
        if (update is { Type: AgentEventType.Offer, Offer: { } offer })
        {
            _shown[offer.SessionId] = offer.OfferedAt;
        }

        return Task.CompletedTask;
    }

    public Task OnAgentDeactivatingAsync(string agentId) => Task.CompletedTask;

    public Task<DateTimeOffset?> OfferShownAtAsync(string agentId, string sessionId) =>
        Task.FromResult(!NeverShown && _shown.TryGetValue(sessionId, out var at) ? at : (DateTimeOffset?)null);

    /// <summary>Every update pushed so far, in the order it came.</summary>
    public IReadOnlyList<AgentUpdate> Updates => _mailbox.Items;

    public Task<AgentUpdate> WaitFor(Func<AgentUpdate, bool> predicate) => _mailbox.WaitFor(predicate);
}
