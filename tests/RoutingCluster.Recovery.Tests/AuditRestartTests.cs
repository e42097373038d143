using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>On PostgreSQL the audit log is the cluster's, not a silo's: what one host recorded (a configuration change,
/// a forced state, a refusal) is read back, as recorded, from a host started afterwards on the same database.</summary>
public sealed class AuditRestartTests(ThrowawayPostgres postgres) : IClassFixture<ThrowawayPostgres>
{
    [Fact]
    public async Task Records_OutliveTheHostThatWroteThem()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("audit"));
        var first = RecoveryHost.Create(settings);
        await using (first.ConfigureAwait(true))
        {
            var api = new HostApi(first.CreateClient());
            await api.PutQueue("audq", """{ "wrapUpSeconds": 7 }""");
            await api.PutAgent("a-aud", "audq");
            using var supervisor = Bearer(first.CreateAnonymousClient(), TestTokens.For("sup-aud", [Roles.Supervisor]));
            (await supervisor.PostAsync("/v1/agents/a-aud/state", Json("""{ "state": "not-ready", "reason": "coaching" }"""))).EnsureSuccessStatusCode();
            Assert.Equal(HttpStatusCode.Forbidden, (await supervisor.PutAsync("/v1/queues/audq", Json("{}"))).StatusCode);
            await Records(first, "targetId=audq", expected: 2);
        }

        await using var second = RecoveryHost.Create(settings);
        var again = new HostApi(second.CreateClient());
        await again.PollUntil("/v1/queues/audq", _ => true, TimeSpan.FromSeconds(20), "the restarted host answers");

        var queue = await Records(second, "targetId=audq", expected: 2);
        var agent = await Records(second, "targetId=a-aud", expected: 2);

        Assert.Equal(["access.refused", "queue.configured"], queue.Select(r => r!["action"]!.GetValue<string>()));
        Assert.Equal(7, queue[1]!["after"]!["wrapUpSeconds"]!.GetValue<double>());
        Assert.Equal("sup-aud", queue[0]!["actor"]!["sub"]!.GetValue<string>());
        var forced = agent.Single(r => r!["action"]!.GetValue<string>() == "agent.state-changed")!;
        Assert.True(forced["forced"]!.GetValue<bool>());
        Assert.Equal("sup-aud", forced["actor"]!["sub"]!.GetValue<string>());
    }

    /// <summary>The records an auditor reads, once <paramref name="expected"/> of them are there (records of refusals
    /// and state changes are written on the side, through the silo's group commit).</summary>
    private static async Task<JsonArray> Records(SiloHostFactory host, string query, int expected)
    {
        using var auditor = Bearer(host.CreateAnonymousClient(), TestTokens.For("risk-aud", [Roles.Auditor]));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var records = JsonNode.Parse(await auditor.GetStringAsync($"/v1/audit?{query}"))!.AsArray();
            if (records.Count >= expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, records.Count);
                return records;
            }

            await Task.Delay(50);
        }
    }

    private static HttpClient Bearer(HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
