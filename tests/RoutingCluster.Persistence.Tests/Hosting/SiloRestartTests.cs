using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RoutingCluster.Persistence.Tests.Grains;
using RoutingCluster.Persistence.Tests.Infrastructure;

namespace RoutingCluster.Persistence.Tests.Hosting;

/// <summary>What a silo writes to PostgreSQL is there for the next silo on the same database.</summary>
public sealed class SiloRestartTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task GrainState_WrittenBeforeARestart_IsReadBackIntactByTheNextSilo()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("restart"));
        CounterView written;
        await using (var first = await TestSilo.StartAsync(settings))
        {
            var counter = first.Grains.GetGrain<ICounterGrain>("counter-1");
            await counter.AddAsync(2, "two");
            written = await counter.AddAsync(3, "three ✓");
            await first.StopAsync();
        }

        await using var second = await TestSilo.StartAsync(settings);
        var read = await second.Grains.GetGrain<ICounterGrain>("counter-1").GetAsync();

        Assert.True(read.RecordExists);
        Assert.Equal(5, read.Total);
        Assert.Equal(["two", "three ✓"], read.Notes);
        Assert.Equal(written.ETag, read.ETag);
        var untouched = await second.Grains.GetGrain<ICounterGrain>("never-written").GetAsync();
        Assert.False(untouched.RecordExists);
        Assert.Null(untouched.ETag);
    }

    [Fact]
    public async Task Write_FromACopyWithAStaleETag_RaisesInconsistentStateException()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("etag"));
        await using var silo = await TestSilo.StartAsync(settings);
        var counter = silo.Grains.GetGrain<ICounterGrain>("counter-2");
        var held = await counter.AddAsync(1, "first");

        // Another writer (say, a duplicate activation during a partition) updates the state behind the grain's back.
        var storage = silo.Host.Services.GetRequiredKeyedService<IGrainStorage>(SiloSettings.StorageName);
        var elsewhere = new GrainState<CounterState>();
        await storage.ReadStateAsync(CounterGrain.StateName, counter.GetGrainId(), elsewhere);
        Assert.Equal(held.ETag, elsewhere.ETag);
        Assert.NotNull(elsewhere.State);
        elsewhere.State.Total = 100;
        elsewhere.State.Notes.Add("elsewhere");
        await storage.WriteStateAsync(CounterGrain.StateName, counter.GetGrainId(), elsewhere);
        Assert.NotEqual(held.ETag, elsewhere.ETag);

        // The grain's copy is now stale: its write is refused...
        await Assert.ThrowsAsync<InconsistentStateException>(() => counter.AddAsync(1, "stale"));

        // ...and so is a stale copy of a state that was never written (no ETag: it may only create).
        var neverRead = new GrainState<CounterState>(new CounterState { Total = -1 });
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(CounterGrain.StateName, counter.GetGrainId(), neverRead));

        // Orleans deactivates the activation that hit the conflict; the next one starts from what is stored.
        var recovered = await Eventually.ReturnsAsync(() => counter.GetAsync(), view => view.Total == 100, TimeSpan.FromSeconds(10),
            "a new activation reads the state written elsewhere");
        Assert.Equal(["first", "elsewhere"], recovered.Notes);
        Assert.Equal(101, (await counter.AddAsync(1, "after")).Total);
    }

    [Fact]
    public async Task Reminder_RegisteredBeforeARestart_FiresAfterIt()
    {
        var settings = SiloSettings.ForNewCluster(await server.CreateSchemaAsync("reminder"));
        await using (var first = await TestSilo.StartAsync(settings))
        {
            await first.Grains.GetGrain<ICounterGrain>("counter-3").RegisterReminderAsync("tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            await first.StopAsync();
        }

        await using var second = await TestSilo.StartAsync(settings);
        var counter = second.Grains.GetGrain<ICounterGrain>("counter-3");

        // The grain's tick count lives in its activation only: ticks counted here reached the new silo.
        await Eventually.ReturnsAsync(() => counter.GetTicksAsync(), ticks => ticks >= 2, TimeSpan.FromSeconds(30),
            "the reminder registered on the first silo ticks on the second");
        await counter.UnregisterReminderAsync("tick");
    }
}
