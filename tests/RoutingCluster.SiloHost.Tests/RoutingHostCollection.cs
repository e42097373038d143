using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests;

/// <summary>One silo host for every test class in the collection; each test uses ids of its own.</summary>
[CollectionDefinition(Name)]
public sealed class RoutingHostCollection : ICollectionFixture<SiloHostFactory>
{
    public const string Name = "routing host";
}
