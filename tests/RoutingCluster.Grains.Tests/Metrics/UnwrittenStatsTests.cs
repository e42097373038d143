using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.Grains.Tests.Metrics;

/// <summary>
/// Each silo knows which of its statistics grains hold intervals not yet written (what the shutdown watchdog reports
/// as lost when it ends a silo that cannot stop in time): a grain is listed, with its changed cells, from the batch
/// that changed it until its next write.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class UnwrittenStatsTests(RoutingClusterFixture fx)
{
    [Fact]
    public async Task QueueStatsGrain_IsListedAsUnwritten_FromABatchApplied_UntilItPersists()
    {
        var queueId = $"unwritten-{Guid.NewGuid():N}";
        var interval = KpiIntervals.Start(fx.Time.GetUtcNow());
        var grain = fx.Grains.GetGrain<IQueueStatsGrain>(queueId);
        var batch = new StatsBatch(Guid.NewGuid(), 1,
        [
            new StatsCellCounts(StatsCell.Total(queueId, interval), new KpiCounters { Offered = 2 }),
            new StatsCellCounts(new StatsCell(queueId, interval, Breakdown.Channel, "voice"), new KpiCounters { Offered = 2 }),
        ], []);

        await grain.ApplyAsync(batch);
        var listed = Assert.Single(Unwritten(), g => g.GrainKey == queueId);

        Assert.Equal(StatsOwnerKind.Queue, listed.Kind);
        Assert.Equal(2, listed.Cells);

        await grain.PersistAsync();

        Assert.DoesNotContain(Unwritten(), g => g.GrainKey == queueId);
    }

    private IEnumerable<(StatsOwnerKind Kind, string GrainKey, int Cells)> Unwritten() =>
        fx.Cluster.Silos.SelectMany(s => s.ServiceProvider.GetRequiredService<UnwrittenStats>().Now());
}
