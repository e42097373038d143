using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>Profiles that cannot run stop the host at start with a clear message.</summary>
public sealed class HostingTests
{
    [Theory]
    [InlineData("Storage:Provider", "postgres")]
    [InlineData("Clustering:Provider", "postgres")]
    public void Start_WithAPostgresProfileAndNoConnectionString_FailsFast_NamingTheSetting(string key, string value)
    {
        using var factory = WithSetting(key, value);

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        var messages = string.Join(" | ", Flatten(error));
        Assert.Contains("ConnectionStrings:Routing is required", messages, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WithAnUnknownStorageProvider_FailsFast()
    {
        using var factory = WithSetting("Storage:Provider", "cassandra");

        var error = Record.Exception(() => factory.CreateClient());

        Assert.Contains("'cassandra' is not known", string.Join(" | ", Flatten(error!)), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WithKubernetesAndLocalhostClustering_FailsFast_NamingBothSettings()
    {
        using var factory = WithSetting("Hosting:Kubernetes", "true");

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        Assert.Contains("Hosting:Kubernetes needs Clustering:Provider 'postgres'", string.Join(" | ", Flatten(error)), StringComparison.Ordinal);
    }

    private static IEnumerable<string> Flatten(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            yield return e.Message;
        }
    }

    private static SiloHostFactory WithSetting(string key, string value) =>
        SiloHostFactory.Create(new SiloHostOptions { Settings = new Dictionary<string, string> { [key] = value } });
}
