using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>
/// Callbacks on the wallboard in headless Chromium against the real host: per queue the callbacks waiting now, those
/// scheduled for later, and today's answered and asked for, with the totals on top, following the queue as an agent
/// calls a customer back.
/// </summary>
[Collection(DesktopHostCollection.Name)]
public sealed class WallboardCallbackTests(DesktopHost host, ITestOutputHelper output) : WallboardPageTest(host, output, 900)
{
    [Fact]
    public async Task Wallboard_ShowsCallbacksWaitingScheduledAndAnsweredToday_AndFollowsAnAnswer()
    {
        var queue = $"wb-callbacks-{Suffix}";
        var agent = $"wb-a4-{Suffix}";
        await Host.Api.PutAsync($"/v1/queues/{queue}", new { name = "Cards callbacks", offerTimeoutSeconds = 120, wrapUpSeconds = 60 });
        await Host.Api.PutAsync($"/v1/agents/{agent}", new { name = "Callback agent", queues = new[] { queue } });

        // Four customers wait with nobody ready; the first (elderly) asks to be called back as soon as possible, the
        // second at a time an hour ahead; the other two stay on the line.
        var immediate = await Host.Api.CreateSessionAsync(queue, 78, $"c-{Suffix}-1");
        var scheduled = await Host.Api.CreateSessionAsync(queue, 45, $"c-{Suffix}-2");
        await Host.Api.CreateSessionAsync(queue, 33, $"c-{Suffix}-3");
        await Host.Api.CreateSessionAsync(queue, 52, $"c-{Suffix}-4");
        await Host.Api.PostAsync($"/v1/sessions/{immediate}/callback", new { at = (DateTimeOffset?)null });
        var inAnHour = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await Host.Api.PostAsync($"/v1/sessions/{scheduled}/callback", new { at = inAnHour });

        await Page.GotoAsync("/wallboard/");
        await Expect(Page.Locator("#connection")).ToHaveTextAsync("connected");
        var row = Page.Locator($"#queues tr[data-queue-id='{queue}']");
        await Expect(row.Locator(".name")).ToHaveTextAsync("Cards callbacks");

        // Waiting: the immediate callback and the two on the line (the scheduled one does not wait yet).
        await Expect(row.Locator(".waiting")).ToHaveTextAsync("3");
        await Expect(row.Locator(".callbacks-waiting")).ToHaveTextAsync("1");
        await Expect(row.Locator(".callbacks-waiting")).ToHaveClassAsync(new Regex(@"\bsome\b"));
        await Expect(row.Locator(".callbacks-scheduled")).ToHaveTextAsync("1");
        await Expect(row.Locator(".callbacks-today")).ToHaveTextAsync("0 / 2");
        await Expect(row.Locator(".callbacks-answered")).ToHaveTextAsync("0");
        await Expect(row.Locator(".callbacks-asked")).ToHaveTextAsync("2");
        await Expect(Page.Locator("#total-callbacks-waiting")).Not.ToHaveTextAsync("–");
        var totalWaiting = int.Parse(await Page.Locator("#total-callbacks-waiting").InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.True(totalWaiting >= 1, $"the total counts this queue's callback waiting: {totalWaiting}");
        await Expect(Page.Locator("#total-callbacks")).ToHaveTextAsync(new Regex(@"^\d+ scheduled · \d+ / \d+ answered today$"));
        await Screenshot("wallboard-4-callbacks");

        // The agent gets ready: the callback kept its place at the head of the line, so it is offered first, and the
        // agent calls the customer back. The page follows on its own.
        await Host.Api.PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });
        await PostWhenAcceptedAsync($"/v1/agents/{agent}/offers/{immediate}/accept");
        await Expect(row.Locator(".callbacks-waiting")).ToHaveTextAsync("0");
        await Expect(row.Locator(".callbacks-waiting")).Not.ToHaveClassAsync(new Regex(@"\bsome\b"));
        await Expect(row.Locator(".callbacks-scheduled")).ToHaveTextAsync("1");
        await Expect(row.Locator(".callbacks-today")).ToHaveTextAsync("1 / 2");
        await Expect(row.Locator(".waiting")).ToHaveTextAsync("2");
        await Screenshot("wallboard-5-callback-answered");
    }
}
