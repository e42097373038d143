using Microsoft.Playwright;

namespace RoutingCluster.Web.Tests;

/// <summary>
/// A fresh browser context and page on the host, for one test: its console and errors go to the test's output, and
/// every problem the page meets (a console error, an uncaught exception, a request that fails or a response of 400
/// or more for one of the page's own resources) is recorded; <see cref="DisposeAsync"/> fails the test on any of
/// them, naming each.
/// </summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly List<string> _problems = [];

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
        var browserPage = new BrowserPage(context, page);
        var origin = host.BaseAddress.GetLeftPart(UriPartial.Authority);
        page.Console += (_, message) =>
        {
            Log(log, $"[browser {message.Type}] {message.Text}");
            if (message.Type == "error")
            {
                browserPage.Problem($"console error: {message.Text} (at {message.Location})");
            }
        };
        page.PageError += (_, error) =>
        {
            Log(log, $"[browser error] {error}");
            browserPage.Problem($"uncaught exception: {error}");
        };
        page.RequestFailed += (_, request) =>
        {
            Log(log, $"[browser request failed] {request.Method} {request.Url}: {request.Failure}");
            browserPage.Problem($"request failed: {request.Method} {request.Url} ({request.ResourceType}): {request.Failure}");
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && IsOwnResource(response.Request, origin))
            {
                Log(log, $"[browser response] {response.Status} {response.Request.Method} {response.Url}");
                browserPage.Problem($"response {response.Status} {response.StatusText} for {response.Request.Method} {response.Url} ({response.Request.ResourceType})");
            }
        };
        return browserPage;
    }

    /// <summary>What went wrong in the page so far (console errors, uncaught exceptions, failed requests, error responses).</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems];
            }
        }
    }

    /// <summary>Fails the test when the page met any problem, naming every one.</summary>
    public void AssertNoProblems() => AssertNone(Problems, Page.Url);

    private static void AssertNone(IReadOnlyList<string> problems, string url) =>
        Assert.True(problems.Count == 0,
            $"The page at {url} met {problems.Count} problem(s):{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", problems));

    /// <summary>
    /// A resource of the page itself: served by the host (same origin) and loaded as part of the page (document,
    /// style, script, image, font...), not a call of the page's script to the API, whose answers (a 404 for an
    /// unknown agent) the page is built to show.
    /// </summary>
    private static bool IsOwnResource(Microsoft.Playwright.IRequest request, string origin) =>
        request.Url.StartsWith(origin, StringComparison.OrdinalIgnoreCase)
        && request.ResourceType is not ("fetch" or "xhr" or "websocket" or "eventsource");

    private void Problem(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
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

    /// <summary>
    /// Fails the test on any problem the page met while the test used it, after closing the page either way. What
    /// closing itself aborts (the hub's connection, a pending request) is the test's doing, not the page's: it is
    /// not counted.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var problems = Problems;
        var url = Page.Url;
        await Context.CloseAsync();
        AssertNone(problems, url);
    }
}
