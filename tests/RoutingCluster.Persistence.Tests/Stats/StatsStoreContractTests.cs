using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RoutingCluster.Abstractions.Metrics;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.Persistence.Tests.Infrastructure;
using RoutingCluster.Persistence.Stats;

namespace RoutingCluster.Persistence.Tests.Stats;

/// <summary>
/// <see cref="PostgresStatsStore"/> keeps the <see cref="IStatsStore"/> contract on <c>routing_interval</c>: a write
/// replaces each cell's values (never adds), a read returns exactly the grain's cells in the range, and the analyst
/// view computes the standard's rates from them.
/// </summary>
public sealed class StatsStoreContractTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly DateTimeOffset Eight = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Save_ThenLoad_ReturnsTheCellsOfThatGrainInTheRange_AndASecondSaveReplaces()
    {
        var store = await NewStoreAsync("cells");
        var total = StatsCell.Total("cards", Eight);
        var elderly = new StatsCell("cards", Eight, Breakdown.Segment, "elderly");
        var later = StatsCell.Total("cards", Eight.AddMinutes(15));
        await store.SaveAsync(StatsOwnerKind.Queue, "cards",
        [
            new(total, Counts(offered: 3, answered: 2, speedTicks: 75 * TimeSpan.TicksPerSecond, idleTicks: 1)),
            new(elderly, Counts(offered: 2, answered: 1, speedTicks: 5 * TimeSpan.TicksPerSecond)),
            new(later, Counts(offered: 1, answered: 0, speedTicks: 0)),
        ]);
        await store.SaveAsync(StatsOwnerKind.Queue, "loans", [new(StatsCell.Total("loans", Eight), Counts(offered: 9, answered: 9, speedTicks: 9))]);
        await store.SaveAsync(StatsOwnerKind.Agent, "cards", [new(StatsCell.Total("a-1", Eight), Counts(offered: 0, answered: 7, speedTicks: 7))]);

        // The second write of a cell replaces it: the grain writes absolute values.
        await store.SaveAsync(StatsOwnerKind.Queue, "cards", [new(total, Counts(offered: 4, answered: 3, speedTicks: 80 * TimeSpan.TicksPerSecond, idleTicks: 2))]);

        var first = await store.LoadAsync(StatsOwnerKind.Queue, "cards", Eight, Eight.AddMinutes(15));
        Assert.Equal(2, first.Count);
        Assert.Equal(Counts(offered: 4, answered: 3, speedTicks: 80 * TimeSpan.TicksPerSecond, idleTicks: 2), first.Single(c => c.Cell == total).Counters);
        Assert.Equal(Counts(offered: 2, answered: 1, speedTicks: 5 * TimeSpan.TicksPerSecond), first.Single(c => c.Cell == elderly).Counters);

        var open = await store.LoadAsync(StatsOwnerKind.Queue, "cards", Eight, DateTimeOffset.MaxValue);
        Assert.Equal([total, elderly, later], open.Select(c => c.Cell).OrderBy(c => c.Interval).ThenBy(c => c.Breakdown));
        Assert.Empty(await store.LoadAsync(StatsOwnerKind.Queue, "cards", Eight.AddDays(-1), Eight));
        Assert.Equal("a-1", Assert.Single(await store.LoadAsync(StatsOwnerKind.Agent, "cards", Eight, DateTimeOffset.MaxValue)).Cell.Owner);
    }

    [Fact]
    public async Task AnalystView_ComputesTheStandardsRates()
    {
        var (store, connectionString) = await NewStoreWithConnectionAsync("view");
        await store.SaveAsync(StatsOwnerKind.Queue, "cards",
            [new(StatsCell.Total("cards", Eight), Counts(offered: 4, answered: 3, speedTicks: 90 * TimeSpan.TicksPerSecond, within: 2))]);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT answer_rate, service_level, average_speed_of_answer_seconds FROM routing_interval_kpi WHERE owner_id = 'cards'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(0.75, reader.GetDouble(0), 12);
        Assert.Equal(0.5, reader.GetDouble(1), 12);
        Assert.Equal(30.0, reader.GetDouble(2), 9);
    }

    private static KpiCounters Counts(long offered, long answered, long speedTicks, long idleTicks = 0, long within = 0) => new()
    {
        Offered = offered,
        Answered = answered,
        AnsweredWithinThreshold = within,
        SpeedOfAnswerTicks = speedTicks,
        TalkCount = answered,
        TalkTicks = answered * 3,
        AfterCallWorkCount = answered,
        AfterCallWorkTicks = answered * 5,
        IdleTicks = idleTicks,
        RingingTicks = 11,
        BusyTicks = 12,
        WrapUpTicks = 13,
        NotReadyTicks = 14,
        Callbacks = offered / 2,
        CallbacksAnswered = answered / 2,
    };

    private async Task<PostgresStatsStore> NewStoreAsync(string purpose) => (await NewStoreWithConnectionAsync(purpose)).Store;

    private async Task<(PostgresStatsStore Store, string ConnectionString)> NewStoreWithConnectionAsync(string purpose)
    {
        var connectionString = await server.CreateSchemaAsync(purpose);
        await PostgresSchema.MigrateAsync(connectionString);
        return (new PostgresStatsStore(connectionString, NullLogger<PostgresStatsStore>.Instance), connectionString);
    }
}
