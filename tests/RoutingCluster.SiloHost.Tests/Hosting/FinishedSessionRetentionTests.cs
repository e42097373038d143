using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>
/// The embedded profile keeps its grain states in the silo's own memory, and a finished session only for
/// <c>Storage:FinishedSessionRetention</c> (one minute here, in virtual time): its activation has left when it
/// finished, so once the retention has run out its id answers 404, while a session still waiting is kept. Nor does
/// Orleans' directory cache keep an address for every session of the day (<c>Orleans:DirectoryCacheSize</c>).
/// </summary>
public sealed class FinishedSessionRetentionTests(RetentionHost host) : IClassFixture<RetentionHost>
{
    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task AFinishedSession_IsServedForItsRetention_ThenAnswers404_AndAWaitingSessionStays()
    {
        var queue = await _api.PutQueue(HostApi.NewId("kept"));
        await host.At(10);
        var finished = await _api.CreateSession(queue);
        var waiting = await _api.CreateSession(queue);
        var abandoned = await _api.Post($"/v1/sessions/{finished}/abandon");
        Assert.True(abandoned.IsSuccess, $"{abandoned.Status}: {string.Join("; ", host.Failures.Select(f => f.Exception.ToString()))}");
        await host.At(11);

        var read = (await _api.Get($"/v1/sessions/{finished}")).Ok();
        Assert.Equal("abandoned", read.Str("state"));
        await host.At(50);
        Assert.Equal("abandoned", (await _api.Get($"/v1/sessions/{finished}")).Ok().Str("state"));

        // 60 s after it finished (and one sweep later), it is gone: neither the store nor an activation holds it.
        await host.At(80);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.Get($"/v1/sessions/{finished}")).Status);
        Assert.Equal("queued", (await _api.Get($"/v1/sessions/{waiting}")).Ok().Str("state"));
    }

    [Fact]
    public void TheEmbeddedProfile_StoresRoutingAndSessionStatesInProcess()
    {
        foreach (var name in new[] { RoutingGrainsServiceCollectionExtensions.StorageName, RoutingGrainsServiceCollectionExtensions.SessionStorageName })
        {
            var storage = Assert.IsType<InProcessGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>(name));
            Assert.IsType<OrleansGrainStorageSerializer>(storage.Serializer);
        }
    }

    [Fact]
    public void TheDirectoryCache_HoldsTheGrainsInProgress_NotEverySessionOfTheDay()
    {
        Assert.Equal(SiloProfileExtensions.DefaultDirectoryCacheSize, host.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
        Assert.True(SiloProfileExtensions.DefaultDirectoryCacheSize < GrainDirectoryOptions.DEFAULT_CACHE_SIZE);
    }

    [Theory]
    [InlineData("5000", 5000)]
    [InlineData(" 250000 ", 250000)]
    [InlineData(null, SiloProfileExtensions.DefaultDirectoryCacheSize)]
    public void TheDirectoryCacheSize_IsReadFromConfiguration(string? value, int expected) =>
        Assert.Equal(expected, SiloProfileExtensions.DirectoryCacheSize(Configuration(value)));

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("lots")]
    [InlineData("1e6")]
    public void ADirectoryCacheSizeThatIsNotAPositiveWholeNumber_StopsTheSilo(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SiloProfileExtensions.DirectoryCacheSize(Configuration(value)));
        Assert.Contains(SiloProfileExtensions.DirectoryCacheSizeKey, error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(string? directoryCacheSize) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [SiloProfileExtensions.DirectoryCacheSizeKey] = directoryCacheSize })
        .Build();
}

public sealed class RetentionHost() : SiloHostFactory(new SiloHostOptions
{
    VirtualTime = true,
    RecordFailures = true,
    Settings = new Dictionary<string, string> { [SiloProfileExtensions.FinishedSessionRetentionKey] = "00:01:00" },
});
