using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RoutingCluster.Tests.Shared;

/// <summary>Speaks the public contract as a gateway or an agent desktop would: raw JSON in, JSON out. One for every
/// test project that speaks HTTP to a silo host (in memory or on Kestrel).</summary>
public sealed class HostApi(HttpClient http)
{
    public HttpClient Http => http;

    /// <summary>Ids unique to one test, so tests share the silo without seeing each other.</summary>
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

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
        return await Reply.Read(response);
    }

    public async Task<string> PutQueue(string queueId, string json = "{}") =>
        (await Put($"/v1/queues/{queueId}", json)).Ok().Str("id");

    public async Task PutAgent(string agentId, string queueId, string skills = """{ "cards": 4 }""") =>
        (await Put($"/v1/agents/{agentId}", $$"""{ "name": "Test agent", "skills": {{skills}}, "queues": [ "{{queueId}}" ] }""")).Ok();

    public async Task<JsonNode> SetState(string agentId, string state, string? reason = null) =>
        (await Post($"/v1/agents/{agentId}/state", reason is null ? $$"""{ "state": "{{state}}" }""" : $$"""{ "state": "{{state}}", "reason": "{{reason}}" }""")).Ok();

    public async Task<string> CreateSession(string queueId, int? age = null, string channel = "voice")
    {
        var customer = age is null ? """{ "id": "c-1" }""" : $$"""{ "id": "c-2", "age": {{age}} }""";
        var reply = await Post("/v1/sessions", $$"""{ "queueId": "{{queueId}}", "channel": "{{channel}}", "customer": {{customer}}, "skills": { "cards": 2 } }""");
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        return reply.Json!.Str("id");
    }

    /// <summary>Creates a voice session (201) for customer <paramref name="customerId"/>, with a private IVR
    /// attribute, and returns its view.</summary>
    public async Task<JsonNode> CreateSessionOf(string queueId, string customerId, int? age = null, string? idempotencyKey = null)
    {
        var customer = age is null ? $$"""{ "id": "{{customerId}}" }""" : $$"""{ "id": "{{customerId}}", "age": {{age}} }""";
        var reply = await Post("/v1/sessions",
            $$"""{ "queueId": "{{queueId}}", "channel": "voice", "customer": {{customer}}, "skills": { "cards": 2 }, "attributes": { "ivr": "private-note" } }""",
            idempotencyKey);
        return reply.Status == HttpStatusCode.Created ? reply.Json! : throw new InvalidOperationException($"Create session: {(int)reply.Status} {reply.Body}");
    }

    /// <summary>PUTs <paramref name="body"/> as JSON and fails on an answer other than 2xx.</summary>
    public async Task PutAsync(string path, object body)
    {
        using var response = await http.PutAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>POSTs <paramref name="body"/> as JSON and fails on an answer other than 2xx.</summary>
    public async Task PostAsync(string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates a voice session for a customer of <paramref name="age"/> and returns its id.</summary>
    public async Task<string> CreateSessionAsync(string queue, int age, string customerId)
    {
        using var response = await http.PostAsJsonAsync("/v1/sessions", new
        {
            queueId = queue,
            channel = "voice",
            customer = new { id = customerId, age },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var session = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return session.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="done"/> holds (the host runs on the real
    /// clock: an offer times out in real seconds), failing after <paramref name="timeout"/>.</summary>
    public async Task<JsonNode> PollUntil(string path, Func<JsonNode, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var json = (await Get(path)).Ok();
            if (done(json))
            {
                return json;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} did not reach the expected state in time; last: {json.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls until <paramref name="done"/> holds for a 2xx answer, failing with the last answer after
    /// <paramref name="within"/> (any answer before that, an error included, is polled again).</summary>
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

    /// <summary>The string <paramref name="property"/> of <paramref name="node"/>, failing when it has none.</summary>
    public static string Str(JsonNode node, string property) => node[property]?.GetValue<string>() ?? throw new InvalidOperationException($"No '{property}' in {node.ToJsonString()}");
}

public sealed record Reply(HttpStatusCode Status, string? ContentType, HttpResponseHeaders Headers, string Body, JsonNode? Json)
{
    public static async Task<Reply> Read(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (body.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            json = JsonNode.Parse(body);
        }

        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Headers, body, json);
    }

    public bool IsSuccess => (int)Status is >= 200 and < 300;

    /// <summary>The Retry-After header as sent, or null.</summary>
    public string? RetryAfter => Headers.RetryAfter?.ToString();

    /// <summary>Fails unless the answer is 2xx with a JSON body, which it returns.</summary>
    public JsonNode Success() => IsSuccess && Json is not null ? Json : throw new InvalidOperationException($"Expected 2xx with JSON, got {(int)Status}: {Body}");

    public JsonNode Ok()
    {
        Assert.True(Status == HttpStatusCode.OK, $"Expected 200, got {(int)Status}: {Body}");
        return Json!;
    }

    /// <summary>Asserts an RFC 9457 problem with this status.</summary>
    public JsonNode Problem(HttpStatusCode status)
    {
        Assert.True(Status == status, $"Expected {(int)status}, got {(int)Status}: {Body}");
        Assert.Equal("application/problem+json", ContentType);
        Assert.Equal((int)status, Json!["status"]!.GetValue<int>());
        return Json;
    }

    /// <summary>Asserts a 400 validation problem that names <paramref name="field"/>.</summary>
    public JsonNode ValidationProblem(string field)
    {
        var problem = Problem(HttpStatusCode.BadRequest);
        var errors = problem["errors"]?.AsObject();
        Assert.True(errors is not null && errors.ContainsKey(field), $"Expected an error for '{field}': {Body}");
        return problem;
    }
}

public static class JsonNodeExtensions
{
    public static string Str(this JsonNode node, string name) => node[name]!.GetValue<string>();

    public static string? StrOrNull(this JsonNode node, string name) => node[name]?.GetValue<string>();

    public static JsonArray Arr(this JsonNode node, string name) => node[name]!.AsArray();

    public static JsonValueKind Kind(this JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;
}
