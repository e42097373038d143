using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests;

/// <summary>
/// One silo host on real Kestrel (HTTP API, agent hub, Orleans silo with memory storage) for every test class in the
/// collection, so the client under test goes through real sockets, HTTP and WebSockets; each test uses ids of its own.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClientHostCollection : ICollectionFixture<KestrelSiloHostFactory>
{
    public const string Name = "client host";
}

internal static class RoutingClients
{
    /// <summary>A client of <paramref name="host"/> (on Kestrel, with a test token on each request) with fast retries (the backoff is real time), over
    /// <paramref name="handlers"/> when given.</summary>
    public static RoutingClient CreateRoutingClient(this SiloHostFactory host, params DelegatingHandler[] handlers)
    {
        // Every request carries a test token (TestTokens.Handler), beneath any handler of the test.
        HttpMessageHandler handler = TestTokens.Handler(new SocketsHttpHandler());
        foreach (var outer in handlers.Reverse())
        {
            outer.InnerHandler = handler;
            handler = outer;
        }

        return new RoutingClient(new HttpClient(handler) { BaseAddress = host.BaseAddress }, new RoutingClientOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
    }
}

internal static class Ids
{
    /// <summary>Ids unique to one test, so tests share the host without seeing each other.</summary>
    public static string New(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}

internal static class Deadline
{
    /// <summary>How long a test waits for something the host does at once (an offer pushed, an event streamed).</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);
}
