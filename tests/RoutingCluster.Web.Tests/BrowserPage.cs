using Microsoft.Playwright;

namespace RoutingCluster.Web.Tests;

/// <summary>A fresh browser context and page on the host, for one test: its console and errors go to the test's output.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    /// <summary>How long a page may take to show something (pushes, clicks, reconnects) on 2 busy cores.</summary>
    public const float UiTimeoutMs = 15_000;

    private BrowserPage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public static async Task<BrowserPage> OpenAsync(DesktopHost host, int width, int height, Action<string> log)
    {
        var browser = await host.BrowserAsync();
        var context = await browser.NewContextAsync(new()
        {
            BaseURL = host.BaseAddress.ToString(),
            ViewportSize = new() { Width = width, Height = height },
        });
        context.SetDefaultTimeout(UiTimeoutMs);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => Log(log, $"[browser {message.Type}] {message.Text}");
        page.PageError += (_, error) => Log(log, $"[browser error] {error}");
        return new BrowserPage(context, page);
    }

    private static void Log(Action<string> log, string line)
    {
        try
        {
            log(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished (a late console message).
        }
    }

    /// <summary>A full-page screenshot in <see cref="DesktopHost.ScreenshotFolder"/>; returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(DesktopHost.ScreenshotFolder, name + ".png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
