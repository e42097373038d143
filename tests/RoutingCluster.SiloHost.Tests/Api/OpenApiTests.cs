using System.Net;
using System.Text.Json.Nodes;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>The generated API description (<c>/openapi/v1.json</c>) describes the whole public contract as the
/// wire carries it: every route, its request body's real field names, kebab-case enum values and its error answers.</summary>
[Collection(RoutingHostCollection.Name)]
public sealed class OpenApiTests(SiloHostFactory host)
{
    private readonly HostApi _api = new(host.CreateClient());

    /// <summary>Every route of the contract served today, with the answers the contract and README give it.</summary>
    public static TheoryData<string, string, int[]> Routes => new()
    {
        { "post", "/v1/sessions", [201, 200, 400, 409, 413, 415, 503] },
        { "get", "/v1/sessions/{id}", [200, 400, 404, 503] },
        { "post", "/v1/sessions/{id}/abandon", [200, 400, 404, 409, 503] },
        { "post", "/v1/sessions/{id}/callback", [200, 400, 404, 409, 413, 415, 503] },
        { "post", "/v1/sessions/{id}/transfer", [200, 400, 404, 409, 413, 415, 503] },
        { "get", "/v1/sessions/{id}/events", [200, 400, 404, 503] },
        { "put", "/v1/agents/{id}", [200, 400, 413, 415, 503] },
        { "get", "/v1/agents/{id}", [200, 400, 404, 503] },
        { "post", "/v1/agents/{id}/state", [200, 400, 404, 409, 413, 415, 503] },
        { "post", "/v1/agents/{id}/offers/{sessionId}/accept", [200, 400, 404, 409, 503] },
        { "post", "/v1/agents/{id}/offers/{sessionId}/reject", [200, 400, 404, 409, 503] },
        { "post", "/v1/agents/{id}/sessions/{sessionId}/end", [200, 400, 404, 409, 503] },
        { "post", "/v1/agents/{id}/sessions/{sessionId}/wrap-up-done", [200, 400, 404, 409, 503] },
        { "put", "/v1/queues/{id}", [200, 400, 413, 415, 503] },
        { "get", "/v1/queues/{id}", [200, 400, 404, 503] },
        { "get", "/v1/queues/{id}/staffing", [200, 400, 404, 503] },
        { "get", "/v1/alerts", [200, 400, 503] },
    };

    /// <summary>The routes with a JSON body and some of the contract's field names in it.</summary>
    public static TheoryData<string, string, string[]> Bodies => new()
    {
        { "post", "/v1/sessions", ["queueId", "channel", "customer", "skills", "preferredAgentId", "preferredAgentWaitSeconds", "attributes"] },
        { "post", "/v1/sessions/{id}/transfer", ["queueId", "agentId"] },
        { "post", "/v1/sessions/{id}/callback", ["at"] },
        { "put", "/v1/agents/{id}", ["name", "skills", "queues", "capacity"] },
        { "post", "/v1/agents/{id}/state", ["state", "reason"] },
        {
            "put", "/v1/queues/{id}",
            ["name", "serviceLevelSeconds", "offerTimeoutSeconds", "wrapUpSeconds", "elderlyAge", "headStart", "agentSelection", "relaxation", "maxWaiting", "maxWaitSeconds", "overflowQueueId", "alerts", "callbackOffer"]
        },
    };

    [Fact]
    public async Task Document_IsServed_AsOpenApiJson()
    {
        var reply = await _api.Get("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("application/json", reply.ContentType);
        Assert.StartsWith("3.", reply.Json!.Str("openapi"), StringComparison.Ordinal);
        Assert.Equal("v1", reply.Json!["info"]!.Str("version"));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Document_HasEveryRoute_WithItsAnswers(string method, string path, int[] statuses)
    {
        var operation = Operation(await Document(), method, path);

        var responses = operation["responses"]!.AsObject();
        foreach (var status in statuses)
        {
            Assert.True(responses.ContainsKey(status.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{method} {path} does not document {status}: {responses.ToJsonString()}");
        }

        // Errors are problem details; 400 is the validation problem that names each field.
        foreach (var (status, response) in responses.Where(r => r.Key[0] is '4' or '5'))
        {
            Assert.True(response!["content"]?["application/problem+json"]?["schema"] is not null, $"{method} {path} {status} is not problem details: {response.ToJsonString()}");
        }

        Assert.Equal("#/components/schemas/HttpValidationProblemDetails", responses["400"]!["content"]!["application/problem+json"]!["schema"]!.Str("$ref"));
        Assert.False(string.IsNullOrEmpty(operation.StrOrNull("summary")), $"{method} {path} has no summary");
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Document_RequestBodies_HaveTheContractsFieldNames(string method, string path, string[] fields)
    {
        var document = await Document();
        var requestBody = Operation(document, method, path)["requestBody"];

        Assert.NotNull(requestBody);
        Assert.True(requestBody["required"]?.GetValue<bool>(), $"{method} {path}: the body is required");
        var schema = Resolve(document, requestBody["content"]!["application/json"]!["schema"]!);
        var properties = schema["properties"]!.AsObject();
        Assert.Equal(fields.Order(StringComparer.Ordinal), properties.Select(p => p.Key).Order(StringComparer.Ordinal));

        // Unknown fields are refused (400), so the schema does not allow them.
        Assert.False(schema["additionalProperties"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Document_QueueAlerts_HaveTheFourBounds_AndAlertKindsTheirWireNames()
    {
        var document = await Document();
        var queue = BodySchema(document, "put", "/v1/queues/{id}");
        var alerts = Resolve(document, queue["properties"]!["alerts"]!);

        Assert.Equal(["elderlyLongestWaitSeconds", "longestWaitSeconds", "serviceLevelBelow", "waitingAbove"], alerts["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.False(alerts["additionalProperties"]!.GetValue<bool>());
        Assert.Equal(["longest-wait", "elderly-longest-wait", "service-level", "waiting"], Values(document["components"]!["schemas"]!["AlertKind"]!));
    }

    [Fact]
    public async Task Document_Callbacks_TheQueuesOfferBound_AndOfferKindsTheirWireNames()
    {
        var document = await Document();
        var queue = BodySchema(document, "put", "/v1/queues/{id}");
        var offer = Resolve(document, queue["properties"]!["callbackOffer"]!);

        Assert.Equal(["whenEstimatedWaitOverSeconds"], offer["properties"]!.AsObject().Select(p => p.Key));
        Assert.False(offer["additionalProperties"]!.GetValue<bool>());
        Assert.Equal(["inbound", "callback"], Values(document["components"]!["schemas"]!["OfferKind"]!));
        Assert.True(document["components"]!["schemas"]!["SessionResponse"]!["properties"]!.AsObject().ContainsKey("callback"));
    }

    [Fact]
    public async Task Document_Staffing_HasItsQueryParameters()
    {
        var operation = Operation(await Document(), "get", "/v1/queues/{id}/staffing");

        var query = operation.Arr("parameters").Where(p => p!.Str("in") == "query").Select(p => p!.Str("name"));
        Assert.Equal(["arrivalsPerHour", "ahtSeconds", "targetServiceLevel", "thresholdSeconds", "patienceSeconds", "method"], query);
        var method = operation.Arr("parameters").Single(p => p!.Str("name") == "method")!;
        Assert.Equal(["formula", "simulation"], Values(method["schema"]!));
    }

    [Fact]
    public async Task Document_CreateSession_HasTheIdempotencyKeyHeader_AndTheRequiredFields()
    {
        var document = await Document();
        var operation = Operation(document, "post", "/v1/sessions");

        var header = Assert.Single(operation.Arr("parameters"), p => p!.Str("name") == "Idempotency-Key")!;
        Assert.Equal("header", header.Str("in"));
        var body = Resolve(document, operation["requestBody"]!["content"]!["application/json"]!["schema"]!);
        Assert.Equal(["channel", "customer", "queueId"], body.Arr("required").Select(f => f!.GetValue<string>()).Order(StringComparer.Ordinal));
        var customer = Resolve(document, body["properties"]!["customer"]!);
        Assert.Equal(["age", "id", "segments"], customer["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["elderly", "disabled", "military", "vip"], Values(customer["properties"]!["segments"]!["items"]!));
    }

    [Fact]
    public async Task Document_Enums_AreTheirKebabCaseStrings()
    {
        var document = await Document();
        var session = BodySchema(document, "post", "/v1/sessions");
        var state = BodySchema(document, "post", "/v1/agents/{id}/state");
        var queue = BodySchema(document, "put", "/v1/queues/{id}");

        var channels = Values(Resolve(document, session["properties"]!["channel"]!));
        Assert.Equal(["voice", "video", "chat", "app", "wechat", "sms", "email", "weibo", "5g"], channels);
        Assert.Equal(["logged-out", "ready", "not-ready"], Values(Resolve(document, state["properties"]!["state"]!)));
        Assert.Equal(["longest-idle", "most-skilled"], Values(Resolve(document, queue["properties"]!["agentSelection"]!)));
        Assert.Contains("wrap-up", Values(document["components"]!["schemas"]!["SessionState"]!));

        // Capacity is keyed by channel: the keys are the channels' wire names, and no others.
        var capacity = BodySchema(document, "put", "/v1/agents/{id}")["properties"]!["capacity"]!;
        Assert.Equal(channels, capacity["properties"]!.AsObject().Select(p => p.Key));
        Assert.False(capacity["additionalProperties"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Document_HeadStart_IsANumberOfSecondsOrStrict()
    {
        var document = await Document();
        var headStart = BodySchema(document, "put", "/v1/queues/{id}")["properties"]!["headStart"]!;

        Assert.Equal(["elderly", "disabled", "military", "vip"], headStart["properties"]!.AsObject().Select(p => p.Key));
        var elderly = Resolve(document, headStart["properties"]!["elderly"]!);
        var choices = elderly.Arr("oneOf").Select(c => Resolve(document, c!)).ToList();
        Assert.Contains(choices, c => c["type"]?.ToString() == "number");
        Assert.Contains(choices, c => c["type"]?.ToString() == "string" && Values(c).SequenceEqual(["strict"]));
    }

    [Fact]
    public async Task Document_Numbers_AreJsonNumbers_NotStrings()
    {
        var document = await Document();
        var queue = BodySchema(document, "put", "/v1/queues/{id}");

        foreach (var field in new[] { "serviceLevelSeconds", "elderlyAge", "maxWaiting" })
        {
            var type = queue["properties"]![field]!["type"]!.ToJsonString();
            Assert.DoesNotContain("string", type, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Document_SessionEvents_AreServerSentEvents()
    {
        var operation = Operation(await Document(), "get", "/v1/sessions/{id}/events");

        Assert.NotNull(operation["responses"]!["200"]!["content"]!["text/event-stream"]);
    }

    [Fact]
    public async Task ScalarReference_IsServedInDevelopment()
    {
        var reply = await _api.Get("/scalar");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("text/html", reply.ContentType);
    }

    [Fact]
    public async Task OutsideDevelopment_TheDocumentIsServed_ButNotTheScalarReference()
    {
        await using var production = SiloHostFactory.Create(new SiloHostOptions { Environment = "Production" });
        var api = new HostApi(production.CreateClient());

        Assert.Equal(HttpStatusCode.OK, (await api.Get("/openapi/v1.json")).Status);
        (await api.Get("/scalar")).Problem(HttpStatusCode.NotFound);
    }

    private async Task<JsonNode> Document() => (await _api.Get("/openapi/v1.json")).Ok();

    private static JsonNode Operation(JsonNode document, string method, string path)
    {
        var operation = document["paths"]?[path]?[method];
        Assert.True(operation is not null, $"{method.ToUpperInvariant()} {path} is not in the document");
        return operation;
    }

    private static JsonNode BodySchema(JsonNode document, string method, string path) =>
        Resolve(document, Operation(document, method, path)["requestBody"]!["content"]!["application/json"]!["schema"]!);

    /// <summary>The schema itself for a <c>$ref</c> to a component schema, or for "null or a <c>$ref</c>" (an
    /// optional field).</summary>
    private static JsonNode Resolve(JsonNode document, JsonNode schema)
    {
        if (schema["oneOf"]?.AsArray() is [var first, var second] && (first?["type"]?.ToString() == "null" || second?["type"]?.ToString() == "null"))
        {
            schema = first?["type"]?.ToString() == "null" ? second! : first!;
        }

        return schema["$ref"]?.GetValue<string>() is { } reference
            ? document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!
            : schema;
    }

    private static string[] Values(JsonNode schema) =>
        [.. (schema["enum"]?.AsArray() ?? []).Select(v => v!.GetValue<string>())];
}
