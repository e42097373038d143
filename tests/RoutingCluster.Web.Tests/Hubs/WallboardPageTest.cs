using Microsoft.Playwright;
using Xunit.Abstractions;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>A wallboard test's page: a fresh headless Chromium page on the shared host for each test, closed (and
/// checked for problems) after it, with the few requests the tests make beside the page.</summary>
public abstract class WallboardPageTest(DesktopHost host, ITestOutputHelper output, int height) : IAsyncLifetime
{
    protected DesktopHost Host { get; } = host;

    /// <summary>Unique to the test, so tests share the host without seeing each other's queues and agents.</summary>
    protected string Suffix { get; } = Guid.NewGuid().ToString("N")[..8];

    protected BrowserPage Browser { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Browser = await BrowserPage.OpenAsync(Host, 1400, height, output.WriteLine);
        Page = Browser.Page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
    }

    protected async Task PostAsync(string path)
    {
        using var response = await Host.Http.PostAsync(path, null);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Posts until the answer is a success: an offer reaches the agent a moment after the session is created.</summary>
    protected async Task PostWhenAcceptedAsync(string path)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            using var response = await Host.Http.PostAsync(path, null, CancellationToken.None);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    protected async Task Screenshot(string name) => output.WriteLine($"screenshot: {await Browser.ScreenshotAsync(name)}");
}
