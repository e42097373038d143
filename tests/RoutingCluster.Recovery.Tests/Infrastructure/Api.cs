using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace RoutingCluster.Recovery.Tests.Infrastructure;

/// <summary>One HTTP answer: status, the Retry-After header, and the body as JSON when it is JSON.</summary>
public sealed record Reply(HttpStatusCode Status, string? RetryAfter, string Body, JsonNode? Json)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public JsonNode Ok() => IsSuccess && Json is not null ? Json : throw new InvalidOperationException($"Expected 2xx with JSON, got {(int)Status}: {Body}");
}

/// <summary>Speaks the public contract as a gateway or an agent desktop would: raw JSON in, JSON out.</summary>
public sealed class Api(HttpClient http)
{
    public Task<Reply> Get(string path) => Send(HttpMethod.Get, path, null);

    public Task<Reply> Put(string path, string json) => Send(HttpMethod.Put, path, json);

    public Task<Reply> Post(string path, string? json = null, string? idempotencyKey = null) => Send(HttpMethod.Post, path, json, idempotencyKey);

    public async Task<Reply> Send(HttpMethod method, string path, string? json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        JsonNode? parsed = null;
        if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true && body.Length > 0)
        {
            parsed = JsonNode.Parse(body);
        }

        var retryAfter = response.Headers.RetryAfter?.ToString();
        return new Reply(response.StatusCode, retryAfter, body, parsed);
    }

    public async Task<JsonNode> PutQueue(string queueId, string json = "{}") => (await Put($"/v1/queues/{queueId}", json)).Ok();

    public async Task<JsonNode> PutAgent(string agentId, string queueId) =>
        (await Put($"/v1/agents/{agentId}", $$"""{ "name": "Agent {{agentId}}", "skills": { "cards": 4 }, "queues": [ "{{queueId}}" ] }""")).Ok();

    public async Task<JsonNode> SetState(string agentId, string state, string? reason = null) =>
        (await Post($"/v1/agents/{agentId}/state", reason is null ? $$"""{ "state": "{{state}}" }""" : $$"""{ "state": "{{state}}", "reason": "{{reason}}" }""")).Ok();

    /// <summary>Creates a session (201) for customer <paramref name="customerId"/> and returns its view.</summary>
    public async Task<JsonNode> CreateSession(string queueId, string customerId, int? age = null, string? idempotencyKey = null)
    {
        var customer = age is null ? $$"""{ "id": "{{customerId}}" }""" : $$"""{ "id": "{{customerId}}", "age": {{age}} }""";
        var reply = await Post("/v1/sessions",
            $$"""{ "queueId": "{{queueId}}", "channel": "voice", "customer": {{customer}}, "skills": { "cards": 2 }, "attributes": { "ivr": "private-note" } }""",
            idempotencyKey);
        return reply.Status == HttpStatusCode.Created ? reply.Json! : throw new InvalidOperationException($"Create session: {(int)reply.Status} {reply.Body}");
    }

    public static string Str(JsonNode node, string property) => node[property]?.GetValue<string>() ?? throw new InvalidOperationException($"No '{property}' in {node.ToJsonString()}");

    /// <summary>Polls until <paramref name="done"/> holds for a 2xx answer, failing with the last answer after <paramref name="within"/>.</summary>
    public async Task<JsonNode> PollUntil(string path, Func<JsonNode, bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        Reply last;
        while (true)
        {
            last = await Get(path);
            if (last.IsSuccess && last.Json is { } json && done(json))
            {
                return json;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Not within {within}: {what}. Last answer to GET {path}: {(int)last.Status} {last.Body}");
            }

            await Task.Delay(50);
        }
    }
}
