using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using RoutingCluster.Persistence.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Persistence.Tests.Infrastructure;

/// <summary>What a test silo runs with: one cluster on one database schema, on its own loopback ports.</summary>
public sealed record SiloSettings(string ConnectionString, string ClusterId, string ServiceId, int SiloPort, int GatewayPort)
{
    /// <summary>The grain storage name the routing grains use (RoutingGrainsServiceCollectionExtensions.StorageName).</summary>
    public const string StorageName = "routing";

    public static SiloSettings ForNewCluster(string connectionString)
    {
        var ports = FreePorts.Take(2);
        var id = Guid.NewGuid().ToString("N")[..8];
        return new SiloSettings(connectionString, $"cluster-{id}", $"service-{id}", ports[0], ports[1]);
    }

    /// <summary>Another silo of the same cluster, on other ports.</summary>
    public SiloSettings OnOtherPorts()
    {
        var ports = FreePorts.Take(2);
        return this with { SiloPort = ports[0], GatewayPort = ports[1] };
    }
}

/// <summary>
/// A plain silo host (<c>Host.CreateApplicationBuilder().UseOrleans</c>) with PostgreSQL clustering, the
/// "routing" grain storage and reminders, configured the way the silo host is meant to configure them.
/// Logs go to the console at the level in <c>ROUTING_TEST_LOG_LEVEL</c> (e.g. <c>Warning</c>; default: none,
/// since several tests provoke errors on purpose and failures surface as exceptions anyway).
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private TestSilo(IHost host, SiloSettings settings)
    {
        Host = host;
        Settings = settings;
    }

    public IHost Host { get; }

    public SiloSettings Settings { get; }

    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<TestSilo> StartAsync(SiloSettings settings, Action<ISiloBuilder>? configure = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.SetMinimumLevel(Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("ROUTING_TEST_LOG_LEVEL"), out var level) ? level : LogLevel.None);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = settings.ClusterId;
                options.ServiceId = settings.ServiceId;
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, settings.SiloPort, settings.GatewayPort);
            silo.UsePostgresClustering(settings.ConnectionString)
                .AddPostgresRoutingStorage(SiloSettings.StorageName, settings.ConnectionString)
                .UsePostgresReminders(settings.ConnectionString)
                .UseSingleHostMembership();

            // Reminders tick every second in these tests; the default minimum period is a minute.
            silo.Configure<ReminderOptions>(options => options.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            configure?.Invoke(silo);
        });

        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new TestSilo(host, settings);
    }

    /// <summary>A graceful stop: the silo leaves the membership table as Dead and its grains deactivate.</summary>
    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        await Host.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            Host.Dispose();
        }
    }
}
