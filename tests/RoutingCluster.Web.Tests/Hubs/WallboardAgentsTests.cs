using Microsoft.Playwright;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>
/// The wallboard's agents panel in headless Chromium against the real host: a supervisor sees a queue's agents and
/// their states, sets one not ready in its place, and moves a busy one to another queue without it dropping the
/// customer it is talking to.
/// </summary>
[Collection(DesktopHostCollection.Name)]
public sealed class WallboardAgentsTests(DesktopHost host, ITestOutputHelper output) : WallboardPageTest(host, output, 1500)
{
    [Fact]
    public async Task Wallboard_ListsAQueuesAgents_SetsOneNotReady_AndMovesABusyOneKeepingItsCustomer()
    {
        var cards = $"wb-cards-{Suffix}";
        var loans = $"wb-loans-{Suffix}";
        var idle = $"wb-a1-{Suffix}";
        var busy = $"wb-a2-{Suffix}";
        await Host.Api.PutAsync($"/v1/queues/{cards}", new { name = "Cards", offerTimeoutSeconds = 120 });
        await Host.Api.PutAsync($"/v1/queues/{loans}", new { name = "Loans" });
        await Host.Api.PutAsync($"/v1/agents/{busy}", new { name = "Busy agent", queues = new[] { cards } });
        await Host.Api.PostAsync($"/v1/agents/{busy}/state", new { state = "ready" });
        var talking = await Host.Api.CreateSessionAsync(cards, 70, $"c-{Suffix}-1");
        await PostWhenAcceptedAsync($"/v1/agents/{busy}/offers/{talking}/accept");
        await Host.Api.PutAsync($"/v1/agents/{idle}", new { name = "Idle agent", queues = new[] { cards } });
        await Host.Api.PostAsync($"/v1/agents/{idle}/state", new { state = "ready" });

        await Page.GotoAsync("/wallboard/");
        await Expect(Page.Locator("#connection")).ToHaveTextAsync("connected");
        await Page.Locator("#ag-queue").SelectOptionAsync(cards);
        var idleRow = Page.Locator($"#agents tr[data-agent-id='{idle}']");
        var busyRow = Page.Locator($"#agents tr[data-agent-id='{busy}']");
        await Expect(idleRow.Locator(".state")).ToContainTextAsync("Ready");
        await Expect(busyRow.Locator(".sessions")).ToHaveTextAsync("1");
        await Expect(Page.Locator("#no-agents")).ToBeHiddenAsync();

        await idleRow.Locator("button.force-not-ready").ClickAsync();
        await Expect(idleRow.Locator(".state")).ToContainTextAsync("Not ready");
        await Expect(idleRow.Locator(".state")).ToContainTextAsync("supervisor");
        await Expect(idleRow.Locator(".forced")).ToContainTextAsync("set by");
        var forced = (await Host.Api.Get($"/v1/agents/{idle}")).Ok();
        Assert.Equal("not-ready", forced.Str("state"));
        Assert.False(string.IsNullOrEmpty(forced.StrOrNull("forcedBy")), forced.ToJsonString());

        await busyRow.Locator("input.move-queues").FillAsync(loans);
        await busyRow.Locator("button.move").ClickAsync();
        await Expect(Page.Locator("#ag-status")).ToContainTextAsync($"{busy}: now serves {loans}");
        await Expect(busyRow).ToHaveCountAsync(0);
        await Screenshot("wallboard-4-agents");

        var busyView = (await Host.Api.Get($"/v1/agents/{busy}")).Ok();
        Assert.Equal([loans], busyView.Arr("queues").Select(q => q!.GetValue<string>()));
        Assert.Equal(talking, Assert.Single(busyView.Arr("sessions"))!.Str("sessionId"));
        Assert.Equal("connected", (await Host.Api.Get($"/v1/sessions/{talking}")).Ok().Str("state"));
        await Page.Locator("#ag-queue").SelectOptionAsync(loans);
        await Expect(busyRow.Locator(".sessions")).ToHaveTextAsync("1");
        Browser.AssertNoProblems();
    }
}
