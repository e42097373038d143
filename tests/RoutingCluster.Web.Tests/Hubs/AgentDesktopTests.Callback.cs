using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>The desktop shows an offer of kind callback with a clear "call the customer back" marker.</summary>
public sealed partial class AgentDesktopTests
{
    [Fact]
    public async Task CallbackOffer_ShowsTheCallTheCustomerBackMarker_AndAcceptConnectsIt()
    {
        var queue = $"web-callback-{_suffix}";
        var agent = $"web-cb-{_suffix}";
        await PutAsync($"/v1/queues/{queue}", new { name = "Callbacks (web)", offerTimeoutSeconds = 60, wrapUpSeconds = 60 });
        await PutAsync($"/v1/agents/{agent}", new { name = "Wang Fang", skills = new Dictionary<string, int> { ["cards"] = 4 }, queues = new[] { queue } });

        // The customer waits with no agent ready, then leaves the line to be called back.
        var sessionId = await CreateSessionAsync(queue, age: 81);
        await PostAsync($"/v1/sessions/{sessionId}/callback", new { at = (DateTimeOffset?)null });

        await SignInAsync(agent);
        await PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });

        var offer = _page.Locator($"#offers li[data-session-id='{sessionId}']");
        await Expect(offer).ToBeVisibleAsync();
        await Expect(offer).ToHaveAttributeAsync("data-kind", "callback");
        await Expect(offer).ToHaveClassAsync(new Regex(@"\bcallback\b"));
        var marker = offer.Locator(".callback-marker");
        await Expect(marker).ToBeVisibleAsync();
        await Expect(marker).ToContainTextAsync("Call the customer back");
        await Expect(offer.Locator(".badge-elderly")).ToBeVisibleAsync();
        await ScreenshotAsync("desktop-5-offer-callback");

        await offer.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();

        var held = _page.Locator($"#sessions li[data-session-id='{sessionId}']");
        await Expect(held).ToHaveAttributeAsync("data-state", "connected");
        await WaitForSessionAsync(sessionId, "connected");
    }

    [Fact]
    public async Task InboundOffer_HasNoCallbackMarker()
    {
        var queue = $"web-inbound-{_suffix}";
        var agent = $"web-in-{_suffix}";
        await PutAsync($"/v1/queues/{queue}", new { name = "Inbound (web)", offerTimeoutSeconds = 60 });
        await PutAsync($"/v1/agents/{agent}", new { name = "Zhao Min", skills = new Dictionary<string, int> { ["cards"] = 4 }, queues = new[] { queue } });
        await PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });
        await SignInAsync(agent);

        var sessionId = await CreateSessionAsync(queue, age: 30);

        var offer = _page.Locator($"#offers li[data-session-id='{sessionId}']");
        await Expect(offer).ToBeVisibleAsync();
        await Expect(offer).ToHaveAttributeAsync("data-kind", "inbound");
        await Expect(offer.Locator(".callback-marker")).ToHaveCountAsync(0);
    }
}
