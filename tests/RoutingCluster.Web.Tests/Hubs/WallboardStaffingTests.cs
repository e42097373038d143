using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>
/// The wallboard's supervisor tools in headless Chromium against the real host: alerts shown as they are raised,
/// "agents needed now" beside "agents ready", and the staffing what-if drawn as a chart of service level and ASA
/// against the number of agents.
/// </summary>
[Collection(DesktopHostCollection.Name)]
public sealed class WallboardStaffingTests(DesktopHost host, ITestOutputHelper output) : WallboardPageTest(host, output, 1300)
{
    [Fact]
    public async Task Wallboard_ShowsAlertsAndAgentsNeeded_AndDrawsTheWhatIf()
    {
        var queue = $"wb-loans-{Suffix}";
        var agent = $"wb-a3-{Suffix}";
        await Host.Api.PutAsync($"/v1/queues/{queue}", new { name = "Loans", offerTimeoutSeconds = 120, alerts = new { waitingAbove = 1, longestWaitSeconds = 600 } });
        await Host.Api.PutAsync($"/v1/agents/{agent}", new { name = "Loans agent", queues = new[] { queue } });
        await Host.Api.PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });

        // One customer served from start to end (so the queue has a measured load), then two wait with nobody ready.
        var served = await Host.Api.CreateSessionAsync(queue, 50, $"c-{Suffix}-1");
        await PostWhenAcceptedAsync($"/v1/agents/{agent}/offers/{served}/accept");
        await PostAsync($"/v1/agents/{agent}/sessions/{served}/end");
        await Host.Api.PostAsync($"/v1/agents/{agent}/state", new { state = "not-ready", reason = "break" });
        await PostAsync($"/v1/agents/{agent}/sessions/{served}/wrap-up-done");
        string[] waiting = [
            await Host.Api.CreateSessionAsync(queue, 77, $"c-{Suffix}-2"),
            await Host.Api.CreateSessionAsync(queue, 30, $"c-{Suffix}-3"),
        ];

        await Page.GotoAsync("/wallboard/");
        await Expect(Page.Locator("#connection")).ToHaveTextAsync("connected");
        var row = Page.Locator($"#queues tr[data-queue-id='{queue}']");
        await Expect(row.Locator(".waiting")).ToHaveTextAsync("2");

        // The alert: two waiting, above the bound of 1; its queue's row is flagged.
        var alert = Page.Locator($"#alerts li[data-queue-id='{queue}'][data-kind='waiting']");
        await Expect(alert).ToBeVisibleAsync();
        await Expect(alert).ToContainTextAsync("Waiting");
        await Expect(alert).ToContainTextAsync("2 (bound 1)");
        await Expect(row).ToHaveClassAsync(new Regex(@"\balerted\b"));
        await Expect(Page.Locator("#no-alerts")).ToBeHiddenAsync();

        // Agents needed now, from the last hour's load (one customer, a short call): one agent, none ready.
        await Expect(row.Locator(".agents-needed")).ToHaveTextAsync("1", new() { Timeout = 45_000 });
        await Expect(row.Locator(".agents-needed")).ToHaveClassAsync(new Regex(@"\bshort\b"));
        await Expect(row.Locator(".agents-ready")).ToHaveTextAsync("0");

        // What-if: 200 an hour, AHT 180 s, 80% target: Erlang C needs 14, and the chart runs from 11 to 17 agents.
        await Page.Locator("#wi-queue").SelectOptionAsync(queue);
        await Page.Locator("#wi-arrivals").FillAsync("200");
        await Page.Locator("#wi-aht").FillAsync("180");
        await Page.Locator("#wi-target").FillAsync("80");
        await Page.Locator("#wi-run").ClickAsync();
        await Expect(Page.Locator("#wi-answer")).ToContainTextAsync("Agents needed: 14");
        await Expect(Page.Locator("#wi-answer")).ToContainTextAsync("service level 88.8%");
        var chart = Page.Locator("#wi-chart svg");
        await Expect(chart).ToHaveAttributeAsync("data-agents-needed", "14");
        await Expect(chart.Locator("circle.service-level-point")).ToHaveCountAsync(7);
        await Expect(chart.Locator("circle.asa-point")).ToHaveCountAsync(7);
        await Expect(chart.Locator("polyline.service-level")).ToBeVisibleAsync();
        await Expect(chart.Locator("line.needed")).ToHaveCountAsync(1);
        await Screenshot("wallboard-3-alerts-and-what-if");

        // The customers leave: the alert clears 10 s after the queue is back within its bound.
        foreach (var session in waiting)
        {
            await PostAsync($"/v1/sessions/{session}/abandon");
        }

        await Expect(row.Locator(".waiting")).ToHaveTextAsync("0");
        await Expect(alert).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await Expect(row).Not.ToHaveClassAsync(new Regex(@"\balerted\b"));
        Browser.AssertNoProblems();
    }
}
