using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary><c>/health/live</c> and <c>/health/ready</c> on the real host (memory storage, localhost clustering).</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class HealthTests(SiloHostFactory host)
{
    private readonly HttpClient _client = host.CreateClient();

    [Fact]
    public async Task Live_Answers200_WithTheProcessCheck()
    {
        using var reply = await _client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("application/json", reply.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await reply.Content.ReadAsStringAsync())!;
        Assert.Equal("healthy", (string?)body["status"]);
        var check = Assert.Single(body["checks"]!.AsArray());
        Assert.Equal("process", (string?)check!["name"]);
        Assert.Equal("healthy", (string?)check["status"]);
    }

    [Fact]
    public async Task Ready_Answers200_OnceTheSiloIsActive_WithMembershipAndStorageChecks()
    {
        var deadline = Stopwatch.StartNew();
        HttpStatusCode status;
        string text;
        do
        {
            using var reply = await _client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            status = reply.StatusCode;
            text = await reply.Content.ReadAsStringAsync();
            if (status == HttpStatusCode.OK)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            await Task.Delay(200);
        }
        while (deadline.Elapsed < TimeSpan.FromSeconds(30));

        Assert.True(status == HttpStatusCode.OK, $"not ready after {deadline.Elapsed}: {text}");
        var body = JsonNode.Parse(text)!;
        Assert.Equal("healthy", (string?)body["status"]);
        var checks = body["checks"]!.AsArray().ToDictionary(c => (string)c!["name"]!, c => c!);
        Assert.Equal(["membership", "storage"], checks.Keys.Order());
        Assert.Contains("Active", (string?)checks["membership"]["description"], StringComparison.Ordinal);
        Assert.Contains("memory", (string?)checks["storage"]["description"], StringComparison.Ordinal);
        Assert.All(checks.Values, c => Assert.Equal("healthy", (string?)c["status"]));
    }

    [Fact]
    public async Task HealthRoutes_AreNotInTheApiDescription()
    {
        var document = await _client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.DoesNotContain("/health/", document, StringComparison.Ordinal);
    }
}
