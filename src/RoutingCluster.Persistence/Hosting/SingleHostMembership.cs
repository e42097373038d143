using Orleans.Configuration;

namespace RoutingCluster.Persistence.Hosting;

/// <summary>
/// Membership settings recommended when the cluster's silos run on one host and a silo that crashed is
/// restarted in place (<see cref="PostgresOrleansBuilderExtensions.UseSingleHostMembership"/>).
/// </summary>
/// <remarks>
/// <para>
/// A silo killed without a graceful stop leaves its membership row Active. A new silo validates
/// connectivity with every Active silo before it joins, so it waits until the dead one is evicted:
/// </para>
/// <list type="bullet">
/// <item>Restarted on the same advertised address and silo port (a fixed <c>Orleans:SiloPort</c>), the new
/// silo recognises the row as an older generation of itself, marks it Dead and joins at once, with or
/// without these settings: measured about 2 s from process launch to ready.</item>
/// <item>Restarted on another address or port (an ephemeral port, a container that got a new address),
/// the new silo only starts probing the dead one once its heartbeat is stale
/// (<see cref="ClusterMembershipOptions.IAmAliveTablePublishTimeout"/> ×
/// <see cref="ClusterMembershipOptions.NumMissedTableIAmAliveLimit"/>), and evicts it after
/// <see cref="ClusterMembershipOptions.NumMissedProbesLimit"/> probes of
/// <see cref="ClusterMembershipOptions.ProbeTimeout"/>, retrying its own connectivity check every
/// ProbeTimeout. Orleans' defaults (30 s × 3, 3 × 5 s) made that about 107 s; these settings about 12.5 s.</item>
/// </list>
/// <para>
/// The costs: each silo writes its heartbeat every 2 s instead of every 30 s (one single-row UPDATE), and
/// a silo that stops answering probes for about 6 s (three 2-s probes; Orleans stretches the timeout up
/// to 8 s when responses are slow or the prober itself is degraded) can be voted dead. That suits silos on
/// one host; across a real network keep the defaults.
/// </para>
/// <para>
/// The defunct-silo settings (<see cref="ClusterMembershipOptions.DefunctSiloExpiration"/>,
/// <see cref="ClusterMembershipOptions.DefunctSiloCleanupPeriod"/>) do not affect restarts: they only delete
/// rows that are already Dead, and Orleans already keeps at most
/// <see cref="ClusterMembershipOptions.MaxDefunctSiloEntries"/> of them. They are left at their defaults.
/// </para>
/// </remarks>
public static class SingleHostMembership
{
    /// <summary>Heartbeat period: a crashed silo's row is stale after 3 × 2 s.</summary>
    public static readonly TimeSpan IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Missed heartbeats before a row counts as stale (Orleans' default).</summary>
    public const int NumMissedTableIAmAliveLimit = 3;

    /// <summary>Initial probe timeout (adapts between 1 s and 8 s), also the joining silo's retry period.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Applies the settings above; everything else keeps Orleans' defaults.</summary>
    public static void Configure(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.IAmAliveTablePublishTimeout = IAmAliveTablePublishTimeout;
        options.NumMissedTableIAmAliveLimit = NumMissedTableIAmAliveLimit;
        options.ProbeTimeout = ProbeTimeout;
    }
}
