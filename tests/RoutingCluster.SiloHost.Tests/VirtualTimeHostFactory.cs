using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Metrics;

namespace RoutingCluster.SiloHost.Tests;

/// <summary>
/// The real silo host with the routing on a fake clock (Orleans keeps the real one): a test moves time to each
/// instant of its script, and the offers, wrap-ups and statistics follow as they would in real time.
/// </summary>
public class VirtualTimeHostFactory : RoutingHostFactory
{
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(Start);

    /// <summary>Moves routing time to <paramref name="secondsAfterStart"/> and waits for the work it triggers.</summary>
    public async Task At(double secondsAfterStart)
    {
        var target = Start + TimeSpan.FromSeconds(secondsAfterStart);
        Assert.True(target >= Time.GetUtcNow(), "time only moves forward");
        while (Time.GetUtcNow() < target)
        {
            var step = target - Time.GetUtcNow();
            Time.Advance(step < TimeSpan.FromSeconds(1) ? step : TimeSpan.FromSeconds(1));
            await Settle();
        }

        await Settle();
    }

    /// <summary>Waits until no routing work runs, then hands every count to the statistics grains.</summary>
    public async Task Settle()
    {
        var tracker = Services.GetRequiredService<WorkTracker>();
        for (var quiet = 0; quiet < 3;)
        {
            await tracker.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await Services.GetRequiredService<KpiCollector>().FlushAsync();
            await Task.Delay(5);
            quiet = tracker.InFlight == 0 ? quiet + 1 : 0;
        }
    }

    protected override void Configure(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<RoutingClock>();
            services.AddSingleton(new RoutingClock(Time));
        });
}
