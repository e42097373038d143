using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RoutingCluster.Web.Tests;

/// <summary>What the browser tests do over HTTP beside the page: set up queues and agents, create sessions.</summary>
public static class HostRequests
{
    public static async Task PutAsync(this DesktopHost host, string path, object body)
    {
        using var response = await host.Http.PutAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task PostAsync(this DesktopHost host, string path, object body)
    {
        using var response = await host.Http.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates a voice session for a customer of <paramref name="age"/> and returns its id.</summary>
    public static async Task<string> CreateSessionAsync(this DesktopHost host, string queue, int age, string customerId)
    {
        using var response = await host.Http.PostAsJsonAsync("/v1/sessions", new
        {
            queueId = queue,
            channel = "voice",
            customer = new { id = customerId, age },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var session = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return session.RootElement.GetProperty("id").GetString()!;
    }
}
