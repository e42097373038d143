using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>
/// The supervisors' wallboard (/wallboard/) in headless Chromium against the real host: figures pushed over SignalR,
/// elderly customers shown apart, and a change in the cluster reaching the page without a reload.
/// </summary>
[Collection(DesktopHostCollection.Name)]
public sealed class WallboardTests(DesktopHost host, ITestOutputHelper output) : WallboardPageTest(host, output, 900)
{
    [Fact]
    public async Task Wallboard_ShowsEachQueueLive_WithElderlyApart_AndUpdatesWithoutReload()
    {
        var queue = $"wb-cards-{Suffix}";
        var busy = $"wb-a1-{Suffix}";
        var away = $"wb-a2-{Suffix}";
        await Host.Api.PutAsync($"/v1/queues/{queue}", new { name = "Cards wallboard", offerTimeoutSeconds = 120, wrapUpSeconds = 60 });
        await Host.Api.PutAsync($"/v1/agents/{busy}", new { name = "Busy agent", queues = new[] { queue } });
        await Host.Api.PutAsync($"/v1/agents/{away}", new { name = "Away agent", queues = new[] { queue } });
        await Host.Api.PostAsync($"/v1/agents/{busy}/state", new { state = "ready" });
        await Host.Api.PostAsync($"/v1/agents/{away}/state", new { state = "not-ready", reason = "training" });

        // One answered at once (the only ready agent takes it), then three wait: two of them elderly (80 and 72).
        var first = await Host.Api.CreateSessionAsync(queue, 40, $"c-{Suffix}-1");
        await PostWhenAcceptedAsync($"/v1/agents/{busy}/offers/{first}/accept");
        await Host.Api.CreateSessionAsync(queue, 80, $"c-{Suffix}-2");
        await Host.Api.CreateSessionAsync(queue, 35, $"c-{Suffix}-3");
        await Host.Api.CreateSessionAsync(queue, 72, $"c-{Suffix}-4");

        await Page.GotoAsync("/wallboard");
        Assert.EndsWith("/wallboard/", Page.Url, StringComparison.Ordinal);
        await Expect(Page.Locator("#connection")).ToHaveTextAsync("connected");
        var row = Page.Locator($"#queues tr[data-queue-id='{queue}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator(".name")).ToHaveTextAsync("Cards wallboard");
        await Expect(row.Locator(".waiting")).ToHaveTextAsync("3");
        await Expect(row.Locator(".elderly-waiting")).ToHaveTextAsync("2");
        await Expect(row.Locator(".agents-busy")).ToHaveTextAsync("1");
        await Expect(row.Locator(".agents-not-ready")).ToHaveTextAsync("1");
        await Expect(row.Locator(".agents-ready")).ToHaveTextAsync("0");

        // Offered 4, answered 1 within 20 s: 25.0% answered, 25.0% service level.
        await Expect(row.Locator(".answer-rate")).ToHaveTextAsync("25.0%");
        await Expect(row.Locator(".service-level")).ToHaveTextAsync("25.0%");
        await Expect(row.Locator(".service-level")).ToHaveClassAsync(new Regex(@"\bbad\b"));
        await Expect(row.Locator(".longest")).ToHaveTextAsync(new Regex(@"^\d+s$"));
        await Expect(Page.Locator("#chart")).ToBeVisibleAsync();
        await Screenshot("wallboard-1-queue-live");

        // Another elderly customer arrives: the page follows on its own.
        await Host.Api.CreateSessionAsync(queue, 91, $"c-{Suffix}-5");
        await Expect(row.Locator(".waiting")).ToHaveTextAsync("4");
        await Expect(row.Locator(".elderly-waiting")).ToHaveTextAsync("3");
        await Expect(row.Locator(".answer-rate")).ToHaveTextAsync("20.0%");
        var totalElderly = int.Parse(await Page.Locator("#total-elderly").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(totalElderly >= 3, $"the total counts this queue's elderly waiting: {totalElderly}");
        await Screenshot("wallboard-2-elderly-arrives");
    }
}
