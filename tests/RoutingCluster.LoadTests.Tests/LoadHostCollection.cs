using RoutingCluster.Tests.Shared;

namespace RoutingCluster.LoadTests.Tests;

/// <summary>
/// One silo host on real Kestrel for the tests that need one, so the load driver goes through real sockets, HTTP and
/// WebSockets as it does against a host started by hand.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LoadHostCollection : ICollectionFixture<KestrelSiloHostFactory>
{
    public const string Name = "load host";
}
