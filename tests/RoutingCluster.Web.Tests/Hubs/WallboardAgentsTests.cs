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
public sealed class WallboardAgentsTests(DesktopHost host, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private BrowserPage _browser = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _browser = await BrowserPage.OpenAsync(host, 1400, 1500, output.WriteLine);
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
    public async Task Wallboard_ListsAQueuesAgents_SetsOneNotReady_AndMovesABusyOneKeepingItsCustomer()
    {
        var cards = $"wb-cards-{_suffix}";
        var loans = $"wb-loans-{_suffix}";
        var idle = $"wb-a1-{_suffix}";
        var busy = $"wb-a2-{_suffix}";
        await host.Api.PutAsync($"/v1/queues/{cards}", new { name = "Cards", offerTimeoutSeconds = 120 });
        await host.Api.PutAsync($"/v1/queues/{loans}", new { name = "Loans" });
        await host.Api.PutAsync($"/v1/agents/{busy}", new { name = "Busy agent", queues = new[] { cards } });
        await host.Api.PostAsync($"/v1/agents/{busy}/state", new { state = "ready" });
        var talking = await host.Api.CreateSessionAsync(cards, 70, $"c-{_suffix}-1");
        await PostWhenAcceptedAsync($"/v1/agents/{busy}/offers/{talking}/accept");
        await host.Api.PutAsync($"/v1/agents/{idle}", new { name = "Idle agent", queues = new[] { cards } });
        await host.Api.PostAsync($"/v1/agents/{idle}/state", new { state = "ready" });

        await _page.GotoAsync("/wallboard/");
        await Expect(_page.Locator("#connection")).ToHaveTextAsync("connected");
        await _page.Locator("#ag-queue").SelectOptionAsync(cards);
        var idleRow = _page.Locator($"#agents tr[data-agent-id='{idle}']");
        var busyRow = _page.Locator($"#agents tr[data-agent-id='{busy}']");
        await Expect(idleRow.Locator(".state")).ToContainTextAsync("Ready");
        await Expect(busyRow.Locator(".sessions")).ToHaveTextAsync("1");
        await Expect(_page.Locator("#no-agents")).ToBeHiddenAsync();

        await idleRow.Locator("button.force-not-ready").ClickAsync();
        await Expect(idleRow.Locator(".state")).ToContainTextAsync("Not ready");
        await Expect(idleRow.Locator(".state")).ToContainTextAsync("supervisor");
        await Expect(idleRow.Locator(".forced")).ToContainTextAsync("set by");
        var forced = (await host.Api.Get($"/v1/agents/{idle}")).Ok();
        Assert.Equal("not-ready", forced.Str("state"));
        Assert.False(string.IsNullOrEmpty(forced.StrOrNull("forcedBy")), forced.ToJsonString());

        await busyRow.Locator("input.move-queues").FillAsync(loans);
        await busyRow.Locator("button.move").ClickAsync();
        await Expect(_page.Locator("#ag-status")).ToContainTextAsync($"{busy}: now serves {loans}");
        await Expect(busyRow).ToHaveCountAsync(0);
        await Screenshot("wallboard-4-agents");

        var busyView = (await host.Api.Get($"/v1/agents/{busy}")).Ok();
        Assert.Equal([loans], busyView.Arr("queues").Select(q => q!.GetValue<string>()));
        Assert.Equal(talking, Assert.Single(busyView.Arr("sessions"))!.Str("sessionId"));
        Assert.Equal("connected", (await host.Api.Get($"/v1/sessions/{talking}")).Ok().Str("state"));
        await _page.Locator("#ag-queue").SelectOptionAsync(loans);
        await Expect(busyRow.Locator(".sessions")).ToHaveTextAsync("1");
        _browser.AssertNoProblems();
    }

    private async Task PostWhenAcceptedAsync(string path)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            using var response = await host.Http.PostAsync(path, null, CancellationToken.None);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    private async Task Screenshot(string name) => output.WriteLine($"screenshot: {await _browser.ScreenshotAsync(name)}");
}
