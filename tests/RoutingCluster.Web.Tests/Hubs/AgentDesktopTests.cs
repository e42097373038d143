using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>
/// The web agent desktop (/agent/) in headless Chromium against the real host: the routing happens in the silo,
/// offers reach the page over SignalR, and the agent answers them by clicking. Every wait is bounded.
/// </summary>
[Collection(DesktopHostCollection.Name)]
public sealed partial class AgentDesktopTests(DesktopHost host, ITestOutputHelper output) : IAsyncLifetime
{
    private const float UiTimeoutMs = BrowserPage.UiTimeoutMs;

    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(15);

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private BrowserPage _browser = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _browser = await BrowserPage.OpenAsync(host, 960, 720, Log);
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
    public async Task ElderlyOffer_ShowsBadgeAndCountdown_AcceptEndWrapUp_CompletesTheSession()
    {
        var queue = $"web-cards-{_suffix}";
        var agent = $"web-a-{_suffix}";
        await PutAsync($"/v1/queues/{queue}", new { name = "Cards (web)", offerTimeoutSeconds = 60, wrapUpSeconds = 120 });
        await PutAsync($"/v1/agents/{agent}", new { name = "Li Wei", skills = new Dictionary<string, int> { ["cards"] = 4 }, queues = new[] { queue } });
        await PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });

        await SignInAsync(agent);
        await Expect(_page.Locator("#agent-state")).ToHaveTextAsync("ready");
        await Expect(_page.Locator("#agent-name")).ToHaveTextAsync("Li Wei");

        var sessionId = await CreateSessionAsync(queue, age: 80);

        // The offer is pushed to the page: elderly badge, channel and queue, and a live countdown.
        var offer = _page.Locator($"#offers li[data-session-id='{sessionId}']");
        await Expect(offer).ToBeVisibleAsync();
        await Expect(offer).ToHaveClassAsync(new Regex(@"\bpriority\b"));
        var badge = offer.Locator(".badge-elderly");
        await Expect(badge).ToBeVisibleAsync();
        await Expect(badge).ToHaveTextAsync("ELDERLY", new() { UseInnerText = true });
        await Expect(offer).ToContainTextAsync("Voice");
        await Expect(offer).ToContainTextAsync(queue);
        var countdown = offer.Locator(".countdown");
        await Expect(countdown).ToHaveTextAsync(CountdownText());
        var first = Seconds(await countdown.InnerTextAsync());
        Assert.InRange(first, 1, 60);
        await _page.WaitForFunctionAsync(
            "([el, first]) => parseInt(el.textContent, 10) < first",
            new object[] { await countdown.ElementHandleAsync(), first },
            new() { Timeout = 5_000 });
        await Expect(_page.Locator("#no-offers")).ToBeHiddenAsync();
        await ScreenshotAsync("desktop-1-offer-elderly");

        await offer.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();

        var held = _page.Locator($"#sessions li[data-session-id='{sessionId}']");
        await Expect(held).ToHaveAttributeAsync("data-state", "connected");
        await Expect(held.Locator(".session-state")).ToHaveTextAsync("connected");
        await Expect(offer).ToHaveCountAsync(0);
        await Expect(_page.Locator("#no-offers")).ToBeVisibleAsync();
        var connected = await WaitForSessionAsync(sessionId, "connected");
        Assert.Equal(agent, connected.GetProperty("agentId").GetString());
        Assert.Contains("elderly", connected.GetProperty("segments").EnumerateArray().Select(s => s.GetString()));
        await ScreenshotAsync("desktop-2-connected");

        await held.GetByRole(AriaRole.Button, new() { Name = "End" }).ClickAsync();
        await Expect(held).ToHaveAttributeAsync("data-state", "wrap-up");
        await WaitForSessionAsync(sessionId, "wrap-up");
        await ScreenshotAsync("desktop-3-wrap-up");

        await held.GetByRole(AriaRole.Button, new() { Name = "Wrap-up done" }).ClickAsync();
        await Expect(held).ToHaveCountAsync(0);
        await Expect(_page.Locator("#no-sessions")).ToBeVisibleAsync();
        await WaitForSessionAsync(sessionId, "completed");
        await Expect(_page.Locator("#connection")).ToHaveTextAsync("connected");
        await Expect(_page.Locator("#action-error")).ToBeEmptyAsync();
    }

    [Fact]
    public async Task UnansweredOffer_DisappearsWhenItExpires_AndTheAgentIsNotReadyMissedOffer()
    {
        var queue = $"web-loans-{_suffix}";
        var agent = $"web-b-{_suffix}";
        await PutAsync($"/v1/queues/{queue}", new { name = "Loans (web)", offerTimeoutSeconds = 2 });
        await PutAsync($"/v1/agents/{agent}", new { name = "Zhang Min", queues = new[] { queue } });
        await PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });

        await SignInAsync(agent);
        await Expect(_page.Locator("#agent-state")).ToHaveTextAsync("ready");

        var sessionId = await CreateSessionAsync(queue, age: 40);
        var offer = _page.Locator($"#offers li[data-session-id='{sessionId}']");
        await Expect(offer).ToBeVisibleAsync();
        await Expect(offer.Locator(".countdown")).ToHaveTextAsync(CountdownText());
        await Expect(offer.Locator(".badge")).ToHaveCountAsync(0);

        // Nobody clicks: the agent grain's offer timer expires it, the page drops it and shows the agent not-ready.
        await Expect(offer).ToHaveCountAsync(0);
        await Expect(_page.Locator("#no-offers")).ToBeVisibleAsync();
        await Expect(_page.Locator("#agent-state")).ToHaveTextAsync("not-ready");
        await Expect(_page.Locator("#agent-state")).ToHaveAttributeAsync("data-state", "not-ready");
        await Expect(_page.Locator("#agent-reason")).ToContainTextAsync("missed-offer");
        await Expect(_page.Locator("#notice")).ToContainTextAsync("expired");
        await ScreenshotAsync("desktop-4-missed-offer");

        using var agentView = await GetJsonAsync($"/v1/agents/{agent}");
        Assert.Equal("not-ready", agentView.RootElement.GetProperty("state").GetString());
        Assert.Equal("missed-offer", agentView.RootElement.GetProperty("reason").GetString());
        Assert.Empty(agentView.RootElement.GetProperty("offers").EnumerateArray());
        await WaitForSessionAsync(sessionId, "queued");

        // Ready again from the page: the session that waited is offered again (with time to see it this time).
        await PutAsync($"/v1/queues/{queue}", new { name = "Loans (web)", offerTimeoutSeconds = 60 });
        await _page.GetByRole(AriaRole.Button, new() { Name = "Ready", Exact = true }).ClickAsync();
        await Expect(_page.Locator("#agent-state")).ToHaveTextAsync("ready");
        await Expect(offer).ToBeVisibleAsync();
        await Expect(_page.Locator("#connection")).ToHaveTextAsync("connected");
    }

    [Fact]
    public async Task SignIn_WithAnUnknownAgent_SaysSoAndStaysOnTheForm()
    {
        var agent = $"web-nobody-{_suffix}";
        await _page.GotoAsync($"/agent/?agent={agent}");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(_page.Locator("#signin-error")).ToHaveTextAsync($"Agent '{agent}' does not exist.");
        await Expect(_page.Locator("#connection")).ToHaveTextAsync("disconnected");
        await Expect(_page.Locator("#desk")).ToBeHiddenAsync();
        await Expect(_page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeEnabledAsync();
    }

    private async Task SignInAsync(string agent)
    {
        await _page.GotoAsync($"/agent/?agent={Uri.EscapeDataString(agent)}");
        await Expect(_page.Locator("#agent-id")).ToHaveValueAsync(agent);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(_page.Locator("#desk")).ToBeVisibleAsync();
        await Expect(_page.Locator("#signin")).ToBeHiddenAsync();
        await Expect(_page.Locator("#connection")).ToHaveTextAsync("connected");
        await Expect(_page.Locator("#connection")).ToHaveAttributeAsync("data-state", "connected");
    }

    private Task<string> CreateSessionAsync(string queue, int age) => host.Api.CreateSessionAsync(queue, age, $"c-{_suffix}-{age}");

    /// <summary>Polls GET /v1/sessions/{id} until it is in <paramref name="state"/>, for at most <see cref="HttpTimeout"/>.</summary>
    private async Task<JsonElement> WaitForSessionAsync(string sessionId, string state)
    {
        using var timeout = new CancellationTokenSource(HttpTimeout);
        string? last = null;
        while (true)
        {
            using var session = await GetJsonAsync($"/v1/sessions/{sessionId}");
            last = session.RootElement.GetProperty("state").GetString();
            if (last == state)
            {
                return session.RootElement.Clone();
            }

            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Session {sessionId} did not become '{state}' within {HttpTimeout.TotalSeconds} s; it is '{last}'.");
            }
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await host.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private Task PutAsync(string path, object body) => host.Api.PutAsync(path, body);

    private Task PostAsync(string path, object body) => host.Api.PostAsync(path, body);

    private async Task ScreenshotAsync(string name) => output.WriteLine($"screenshot: {await _browser.ScreenshotAsync(name)}");

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished (a late console message).
        }
    }

    private static int Seconds(string countdown) => int.Parse(CountdownText().Match(countdown).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(\d+) s$")]
    private static partial Regex CountdownText();
}
