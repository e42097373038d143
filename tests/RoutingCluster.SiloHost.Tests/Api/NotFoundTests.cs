using System.Net;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>Unknown ids in routes answer 404 problem details, on every route.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class NotFoundTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    public static TheoryData<string, string, string?> UnknownRoutes => new()
    {
        { "GET", "/v1/sessions/{s}", null },
        { "POST", "/v1/sessions/{s}/abandon", null },
        { "POST", "/v1/sessions/{s}/transfer", """{ "queueId": "q-x" }""" },
        { "GET", "/v1/agents/{a}", null },
        { "POST", "/v1/agents/{a}/state", """{ "state": "ready" }""" },
        { "POST", "/v1/agents/{a}/offers/{s}/accept", null },
        { "POST", "/v1/agents/{a}/offers/{s}/reject", null },
        { "POST", "/v1/agents/{a}/sessions/{s}/end", null },
        { "POST", "/v1/agents/{a}/sessions/{s}/wrap-up-done", null },
        { "GET", "/v1/queues/{q}", null },
    };

    [Theory]
    [MemberData(nameof(UnknownRoutes))]
    public async Task Route_WithUnknownIds_Answers404ProblemDetails(string method, string route, string? body)
    {
        var path = route.Replace("{s}", HostApi.NewId("s-unknown"), StringComparison.Ordinal)
            .Replace("{a}", HostApi.NewId("a-unknown"), StringComparison.Ordinal)
            .Replace("{q}", HostApi.NewId("q-unknown"), StringComparison.Ordinal);

        var reply = await _api.Send(new HttpMethod(method), path, body);

        var problem = reply.Problem(HttpStatusCode.NotFound);
        Assert.Contains("does not exist", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("accept")]
    [InlineData("reject")]
    public async Task OfferAction_ForUnknownSessionOfKnownAgent_Answers404(string action)
    {
        var queue = await _api.PutQueue(HostApi.NewId("q"));
        var agent = HostApi.NewId("a");
        await _api.PutAgent(agent, queue);

        var reply = await _api.Post($"/v1/agents/{agent}/offers/{HostApi.NewId("s-unknown")}/{action}");

        Assert.Contains("Session", reply.Problem(HttpStatusCode.NotFound).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRoute_Answers404ProblemDetails()
    {
        var reply = await _api.Get("/v1/nothing-here");

        reply.Problem(HttpStatusCode.NotFound);
    }
}
