using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RoutingCluster.Web.Tests.Publish;

/// <summary>
/// The published host (<c>dotnet publish</c> output, started as its own process as an operator runs it): it carries
/// everything its pages load, and it finds its settings and pages wherever it is started from.
/// </summary>
[Collection(PublishedHostCollection.Name)]
public sealed class PublishedHostTests(PublishedHost published, ITestOutputHelper output)
{
    [Fact]
    public async Task PublishedHost_ServesDesktopAndWallboard_ThroughAFullLifecycle_WithoutAnyPageError()
    {
        var (baseAddress, arguments) = PublishedHost.FreePortArguments();
        using var host = await published.StartAsync(published.Folder, baseAddress, arguments);
        using var http = new HttpClient(TestTokens.Handler(new HttpClientHandler())) { BaseAddress = baseAddress };
        var api = new HostApi(http);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var queue = $"pub-cards-{suffix}";
        var agent = $"pub-a-{suffix}";
        await api.PutAsync($"/v1/queues/{queue}", new { name = "Cards (published)", offerTimeoutSeconds = 60, wrapUpSeconds = 60 });
        await api.PutAsync($"/v1/agents/{agent}", new { name = "Li Wei", skills = new Dictionary<string, int> { ["cards"] = 4 }, queues = new[] { queue } });
        await api.PostAsync($"/v1/agents/{agent}/state", new { state = "ready" });

        var problems = new ConcurrentQueue<string>();
        var context = await published.Browser.NewContextAsync(new() { BaseURL = baseAddress.ToString(), ViewportSize = new() { Width = 960, Height = 720 } });
        try
        {
            context.SetDefaultTimeout(BrowserPage.UiTimeoutMs);
            var desktop = await OpenAsync(context, problems);
            await desktop.GotoAsync($"/agent/?agent={agent}");
            await desktop.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(desktop.Locator("#connection")).ToHaveTextAsync("connected");
            await Expect(desktop.Locator("#agent-state")).ToHaveTextAsync("ready");

            var sessionId = await api.CreateSessionAsync(queue, 80, $"c-{suffix}");
            var offer = desktop.Locator($"#offers li[data-session-id='{sessionId}']");
            await Expect(offer).ToBeVisibleAsync();
            await Expect(offer.Locator(".badge-elderly")).ToBeVisibleAsync();
            var screenshot = Path.Combine(DesktopHost.ScreenshotFolder, "published-desktop-offer.png");
            Directory.CreateDirectory(DesktopHost.ScreenshotFolder);
            await desktop.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
            output.WriteLine($"screenshot: {screenshot}");

            await offer.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();
            var held = desktop.Locator($"#sessions li[data-session-id='{sessionId}']");
            await Expect(held).ToHaveAttributeAsync("data-state", "connected");
            await api.PollUntil($"/v1/sessions/{sessionId}", s => s["state"]?.GetValue<string>() == "connected");
            await held.GetByRole(AriaRole.Button, new() { Name = "End" }).ClickAsync();
            await Expect(held).ToHaveAttributeAsync("data-state", "wrap-up");
            await held.GetByRole(AriaRole.Button, new() { Name = "Wrap-up done" }).ClickAsync();
            await Expect(held).ToHaveCountAsync(0);
            await api.PollUntil($"/v1/sessions/{sessionId}", s => s["state"]?.GetValue<string>() == "completed");
            await Expect(desktop.Locator("#action-error")).ToBeEmptyAsync();

            var wallboard = await OpenAsync(context, problems);
            await wallboard.GotoAsync("/wallboard/");
            await Expect(wallboard.Locator("#connection")).ToHaveTextAsync("connected");
            var row = wallboard.Locator($"#queues tr[data-queue-id='{queue}']");
            await Expect(row.Locator(".name")).ToHaveTextAsync("Cards (published)");
            await Expect(row.Locator(".waiting")).ToHaveTextAsync("0");

            Assert.True(problems.IsEmpty, "The published pages met errors:\n" + string.Join('\n', problems));
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [Fact]
    public async Task PublishedHost_StartedFromAnotherDirectory_ReadsItsAppSettings_AndServesItsPages()
    {
        // As an operator configures a deployment: the publish folder's own appsettings.json says where to listen.
        var ports = FreePorts.Take(3);
        var settingsPath = Path.Combine(published.Folder, "appsettings.json");
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(settingsPath))!;
        settings["Urls"] = $"http://127.0.0.1:{ports[0].ToString(CultureInfo.InvariantCulture)}";
        settings["Orleans"]!["SiloPort"] = ports[1];
        settings["Orleans"]!["GatewayPort"] = ports[2];
        await File.WriteAllTextAsync(settingsPath, settings.ToJsonString());
        var baseAddress = new Uri($"http://127.0.0.1:{ports[0].ToString(CultureInfo.InvariantCulture)}/");

        // Started from elsewhere, with no argument at all: only its own appsettings.json names that port.
        var elsewhere = Directory.CreateTempSubdirectory("rc-elsewhere-");
        try
        {
            using var host = await published.StartAsync(elsewhere.FullName, baseAddress);
            using var http = new HttpClient(TestTokens.Handler(new HttpClientHandler())) { BaseAddress = baseAddress };
            foreach (var (path, mediaType) in new[]
            {
                ("/agent/", "text/html"), ("/wallboard/", "text/html"), ("/lib/signalr/signalr.min.js", "text/javascript"),
            })
            {
                using var response = await http.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}:\n{host.Tail()}");
                Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
            }

            var contentRoot = Path.TrimEndingDirectorySeparator(published.Folder);
            Assert.Contains(host.Log, line => line.Contains($"Content root path: {contentRoot}", StringComparison.Ordinal));
            Assert.DoesNotContain(host.Log, line => line.Contains("WebRootPath", StringComparison.Ordinal));
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, ConcurrentQueue<string> problems)
    {
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => problems.Enqueue($"JavaScript error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Enqueue($"console error: {message.Text} ({message.Location})");
            }
        };
        page.RequestFailed += (_, request) => problems.Enqueue($"request failed: {request.Method} {request.Url}: {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                problems.Enqueue($"{response.Status} {response.Request.Method} {response.Url}");
            }
        };
        return page;
    }
}
