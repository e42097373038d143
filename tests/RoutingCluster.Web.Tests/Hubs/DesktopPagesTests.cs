using System.Net;

namespace RoutingCluster.Web.Tests.Hubs;

/// <summary>What the browser needs from the host before any script runs: the page and the SignalR client.</summary>
[Collection(DesktopHostCollection.Name)]
public sealed class DesktopPagesTests(DesktopHost host)
{
    [Theory]
    [InlineData("/agent/")]
    [InlineData("/agent/?agent=a-17")]
    [InlineData("/agent/index.html")]
    public async Task DesktopPage_IsServed(string path)
    {
        using var client = host.CreateClientWithoutRedirects();
        using var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {path} answered {(int)response.StatusCode} {response.Headers.Location} instead of the page.");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>RoutingCluster · Agent desktop</title>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentWithoutSlash_RedirectsToThePage_KeepingTheQuery()
    {
        using var client = host.CreateClientWithoutRedirects();
        using var response = await client.GetAsync("/agent?agent=a-17");
        Assert.True(response.StatusCode is HttpStatusCode.Found or HttpStatusCode.MovedPermanently or HttpStatusCode.TemporaryRedirect,
            $"GET /agent answered {(int)response.StatusCode}.");
        var location = response.Headers.Location!;
        Assert.Equal("/agent/?agent=a-17", location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString);
    }

    [Theory]
    [InlineData("/agent/agent.js", "text/javascript")]
    [InlineData("/agent/agent.css", "text/css")]
    [InlineData("/lib/signalr/signalr.min.js", "text/javascript")]
    public async Task PageAssets_AreServed(string path, string mediaType)
    {
        using var response = await host.Http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}.");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }
}
