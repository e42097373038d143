using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using RoutingCluster.Persistence.Hosting;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>
/// <c>Hosting:Kubernetes</c>: the host wired for a pod, built but not started (starting needs a Kubernetes API and a
/// database). The pod's environment (the downward-API variables the manifests set) is set on this process for the
/// one test that reads it; nothing else in the test run reads these variables.
/// </summary>
public sealed class KubernetesHostingTests
{
    private static readonly Dictionary<string, string?> Pod = new()
    {
        [KubernetesHostingOptions.PodNameEnvironmentVariable] = "routing-cluster-7d9f-abcde",
        [KubernetesHostingOptions.PodNamespaceEnvironmentVariable] = "contact-center",
        [KubernetesHostingOptions.PodIPEnvironmentVariable] = "10.1.2.3",
        [KubernetesHostingOptions.ServiceIdEnvironmentVariable] = "routing",
        [KubernetesHostingOptions.ClusterIdEnvironmentVariable] = "routing-blue",
    };

    [Fact]
    public async Task Kubernetes_NamesTheSiloAfterThePod_AdvertisesThePodAddress_OnTheConfiguredPorts()
    {
        var saved = Pod.Keys.ToDictionary(name => name, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in Pod)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            await using var app = Build(new()
            {
                ["Hosting:Kubernetes"] = "true",
                ["Clustering:Provider"] = "postgres",
                ["ConnectionStrings:Routing"] = "Host=postgres;Username=routing;Database=routing",
                ["Orleans:SiloPort"] = "11211",
                ["Orleans:GatewayPort"] = "30100",
            });

            var endpoints = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
            Assert.Equal(IPAddress.Parse("10.1.2.3"), endpoints.AdvertisedIPAddress);
            Assert.Equal(11211, endpoints.SiloPort);
            Assert.Equal(30100, endpoints.GatewayPort);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 11211), endpoints.SiloListeningEndpoint);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 30100), endpoints.GatewayListeningEndpoint);

            Assert.Equal("routing-cluster-7d9f-abcde", app.Services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName);
            var cluster = app.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            Assert.Equal("routing", cluster.ServiceId);
            Assert.Equal("routing-blue", cluster.ClusterId);

            // The pod of a silo declared dead is deleted, so that its Deployment replaces it.
            Assert.True(app.Services.GetRequiredService<IOptions<KubernetesHostingOptions>>().Value.DeleteDefunctSiloPods);

            // Across a network: Orleans' membership timings, not the single-host ones.
            var membership = app.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
            Assert.NotEqual(SingleHostMembership.IAmAliveTablePublishTimeout, membership.IAmAliveTablePublishTimeout);
            Assert.Equal(new ClusterMembershipOptions().ProbeTimeout, membership.ProbeTimeout);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    [Fact]
    public async Task WithoutKubernetes_PostgresClustering_AdvertisesLoopback_WithSingleHostTimings()
    {
        await using var app = Build(new()
        {
            ["Clustering:Provider"] = "postgres",
            ["ConnectionStrings:Routing"] = "Host=postgres;Username=routing;Database=routing",
        });

        Assert.False(app.Services.GetRequiredService<ClusterProfile>().Kubernetes);
        Assert.Equal(IPAddress.Loopback, app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value.AdvertisedIPAddress);
        Assert.Equal(SingleHostMembership.IAmAliveTablePublishTimeout,
            app.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value.IAmAliveTablePublishTimeout);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    public void Kubernetes_NotTrueOrFalse_FailsFast(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ClusterProfile.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Hosting:Kubernetes"] = value })
            .Build()));

        Assert.Contains($"Hosting:Kubernetes '{value}' is not true or false", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The host as <c>Program</c> builds it, on these settings alone, not started.</summary>
    private static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddRoutingCluster();
        return builder.Build();
    }
}
