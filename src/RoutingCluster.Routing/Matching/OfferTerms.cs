using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Matching;

/// <summary>How long an offer stays open, decided in one place: the agent that holds it, the session that takes it
/// and the simulator all ask here.</summary>
public static class OfferTerms
{
    /// <summary>The reason an agent is set not ready with when it let an offer expire.</summary>
    public const string MissedOfferReason = "missed-offer";

    /// <summary>When an offer made at <paramref name="offeredAt"/> under the queue's policy expires.</summary>
    public static DateTimeOffset ExpiresAt(DateTimeOffset offeredAt, QueuePolicy policy) =>
        offeredAt + TimeSpan.FromSeconds(policy.OfferTimeoutSeconds);

    /// <summary>Whether an offer that expires at <paramref name="expiresAt"/> can no longer be accepted at <paramref name="now"/>:
    /// at its expiry instant it is already gone.</summary>
    public static bool HasExpired(DateTimeOffset expiresAt, DateTimeOffset now) => now >= expiresAt;
}
