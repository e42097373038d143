using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Access;

/// <summary>Every endpoint the host maps names an authorization policy, or is on the explicit anonymous list; a route
/// added later without either fails here.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class EndpointAccessTests(SiloHostFactory host)
{
    /// <summary>The contract's open routes: health, the API description, the dev issuer (the pages are static files,
    /// not endpoints).</summary>
    private static readonly string[] Anonymous =
        ["/health/live", "/health/ready", "/openapi/{documentName}.json", "/scalar/{documentName?}",
        "/scalar/scalar.js", "/scalar/scalar.aspnetcore.js", "/scalar/favicon.svg", "/auth/dev-token"];

    [Fact]
    public void EveryEndpoint_HasAPolicy_OrIsOnTheAnonymousList()
    {
        host.CreateClient().Dispose();
        var endpoints = host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        var patterns = endpoints.Select(e => e.RoutePattern.RawText ?? string.Empty).ToHashSet();
        Assert.Contains("/v1/sessions/{id}", patterns);
        Assert.Contains("/hubs/agent", patterns);
        Assert.Contains("/hubs/wallboard/negotiate", patterns);
        Assert.Contains("/metrics", patterns);
        Assert.True(endpoints.Count >= 25, $"only {endpoints.Count} endpoints found");

        var open = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null).ToList();
        var unnamed = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null
                && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => !string.IsNullOrEmpty(a.Policy)))
            .Select(e => $"{e.DisplayName} ({e.RoutePattern.RawText})");
        Assert.Empty(unnamed);
        var notListed = open.Select(e => e.RoutePattern.RawText).Where(p => !Anonymous.Contains(p)).ToList();
        Assert.True(notListed.Count == 0, "Anonymous but not on the list: " + string.Join(", ", notListed));
        Assert.Equal(Anonymous.Order(), RoutingAccess.AnonymousRoutes.Order());
    }

    [Fact]
    public void EveryPolicyNamed_IsDefined()
    {
        host.CreateClient().Dispose();
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthorizationOptions>>().Value;
        var named = host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .SelectMany(e => e.Metadata.GetOrderedMetadata<IAuthorizeData>())
            .Select(a => a.Policy)
            .OfType<string>()
            .Distinct()
            .ToList();

        Assert.NotEmpty(named);
        Assert.All(named, policy => Assert.NotNull(options.GetPolicy(policy)));
    }
}
