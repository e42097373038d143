using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using RoutingCluster.Persistence.Hosting;
using RoutingCluster.Persistence.Tests.Infrastructure;

namespace RoutingCluster.Persistence.Tests.Hosting;

/// <summary>The reminder provider's contract, driven through the provider itself against the schema.</summary>
public sealed class ReminderTableContractTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Reminders_AreUpsertedReadAndRemovedByETag()
    {
        var connectionString = await MigratedSchemaAsync();
        var table = await ReminderTableAsync(connectionString, "service-a");
        var grain = GrainId.Create("counter", "r1");
        var startAt = new DateTime(2031, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234560);

        var firstETag = await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "a", StartAt = startAt, Period = TimeSpan.FromMinutes(5) });
        var secondETag = await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "a", StartAt = startAt, Period = TimeSpan.FromDays(30) });
        await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "b", StartAt = startAt, Period = TimeSpan.FromSeconds(1) });

        Assert.NotNull(firstETag);
        Assert.NotEqual(firstETag, secondETag);
        var read = await table.ReadRow(grain, "a");
        Assert.NotNull(read);
        Assert.Equal(grain, read.GrainId);
        Assert.Equal(startAt, read.StartAt);
        Assert.Equal(DateTimeKind.Utc, read.StartAt.Kind);
        Assert.Equal(TimeSpan.FromDays(30), read.Period);   // beyond int.MaxValue milliseconds
        Assert.Equal(secondETag, read.ETag);
        Assert.Equal(["a", "b"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName).Order());

        Assert.False(await table.RemoveRow(grain, "a", firstETag));
        Assert.True(await table.RemoveRow(grain, "a", secondETag!));
        Assert.Null(await table.ReadRow(grain, "a"));
        Assert.Null(await (await ReminderTableAsync(connectionString, "service-b")).ReadRow(grain, "b"));   // services do not see each other's reminders
    }

    [Fact]
    public async Task ReadRows_ByHashRange_ReturnsTheRemindersOfThatSliceOfTheRing()
    {
        var table = await ReminderTableAsync(await MigratedSchemaAsync(), "service-ring");
        var grains = Enumerable.Range(0, 64).Select(i => GrainId.Create("counter", $"ring-{i}")).ToArray();
        foreach (var grain in grains)
        {
            await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "r", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) });
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToArray();
        uint[][] ranges =
        [
            [hashes[5], hashes[20]],                      // inside the ring
            [hashes[40], hashes[10]],                     // wraps past uint.MaxValue
            [0x7FFF_0000, 0x8000_FFFF],                   // crosses the signed boundary
            [0x8000_FFFF, 0x7FFF_0000],                   // wraps in both orders
            [hashes[7], hashes[7]],                       // the whole ring
        ];

        foreach (var range in ranges)
        {
            var (begin, end) = (range[0], range[1]);
            var expected = grains.Where(g => InRange(g.GetUniformHashCode(), begin, end)).Order().ToArray();
            var actual = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId).Order().ToArray();
            Assert.True(expected.SequenceEqual(actual), $"range ({begin:X8}, {end:X8}]: expected {expected.Length} reminders, got {actual.Length}");
        }
    }

    /// <summary>Orleans' ring ranges are (begin, end], wrapping when end &lt;= begin.</summary>
    private static bool InRange(uint hash, uint begin, uint end) => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private async Task<string> MigratedSchemaAsync()
    {
        var connectionString = await server.CreateSchemaAsync("reminders");
        await PostgresSchema.MigrateAsync(connectionString);
        return connectionString;
    }

    private static async Task<IReminderTable> ReminderTableAsync(string connectionString, string serviceId)
    {
        var services = new ServiceCollection();
        services.Configure<ClusterOptions>(options => { options.ClusterId = "reminder-tests"; options.ServiceId = serviceId; });
        services.UseAdoNetReminderService(options => options.Configure(o =>
        {
            o.Invariant = PostgresOrleansBuilderExtensions.Invariant;
            o.ConnectionString = connectionString;
        }));
        var table = services.BuildServiceProvider().GetRequiredService<IReminderTable>();
        await table.StartAsync();
        return table;
    }
}
