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
public sealed class WallboardTests(DesktopHost host, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private BrowserPage _browser = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _browser = await BrowserPage.OpenAsync(host, 1400, 900, output.WriteLine);
        _page = _browser.Page;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
    }

    [Fact]
    public async Task Wallboard_ShowsEachQueueLive_WithElderlyApart_AndUpdatesWithoutReload()
    {
        var queue = $"wb-cards-{_suffix}";
        var busy = $"wb-a1-{_suffix}";
        var away = $"wb-a2-{_suffix}";
        await host.Api.PutAsync($"/v1/queues/{queue}", new { name = "Cards wallboard", offerTimeoutSeconds = 120, wrapUpSeconds = 60 });
        await host.Api.PutAsync($"/v1/agents/{busy}", new { name = "Busy agent", queues = new[] { queue } });
        await host.Api.PutAsync($"/v1/agents/{away}", new { name = "Away agent", queues = new[] { queue } });
        await host.Api.PostAsync($"/v1/agents/{busy}/state", new { state = "ready" });
        await host.Api.PostAsync($"/v1/agents/{away}/state", new { state = "not-ready", reason = "training" });

        // One answered at once (the only ready agent takes it), then three wait: two of them elderly (80 and 72).
        var first = await host.Api.CreateSessionAsync(queue, 40, $"c-{_suffix}-1");
        await AcceptWhenOfferedAsync(busy, first);
        await host.Api.CreateSessionAsync(queue, 80, $"c-{_suffix}-2");
        await host.Api.CreateSessionAsync(queue, 35, $"c-{_suffix}-3");
        await host.Api.CreateSessionAsync(queue, 72, $"c-{_suffix}-4");

        await _page.GotoAsync("/wallboard");
        Assert.EndsWith("/wallboard/", _page.Url, StringComparison.Ordinal);
        await Expect(_page.Locator("#connection")).ToHaveTextAsync("connected");
        var row = _page.Locator($"#queues tr[data-queue-id='{queue}']");
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
        await Expect(_page.Locator("#chart")).ToBeVisibleAsync();
        await Screenshot("wallboard-1-queue-live");

        // Another elderly customer arrives: the page follows on its own.
        await host.Api.CreateSessionAsync(queue, 91, $"c-{_suffix}-5");
        await Expect(row.Locator(".waiting")).ToHaveTextAsync("4");
        await Expect(row.Locator(".elderly-waiting")).ToHaveTextAsync("3");
        await Expect(row.Locator(".answer-rate")).ToHaveTextAsync("20.0%");
        var totalElderly = int.Parse(await _page.Locator("#total-elderly").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(totalElderly >= 3, $"the total counts this queue's elderly waiting: {totalElderly}");
        await Screenshot("wallboard-2-elderly-arrives");
    }

    private async Task AcceptWhenOfferedAsync(string agent, string session)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            using var response = await host.Http.PostAsync($"/v1/agents/{agent}/offers/{session}/accept", null, CancellationToken.None);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    private async Task Screenshot(string name) => output.WriteLine($"screenshot: {await _browser.ScreenshotAsync(name)}");
}
