using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.Tests.Shared;
using Xunit.Abstractions;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>
/// Hundreds of malformed requests over every route (broken JSON, wrong JSON types, out-of-range values, unknown
/// enum values, oversized bodies, huge strings and ids, wrong content types, empty bodies, invalid route ids),
/// generated from a fixed seed: none answers 5xx, each answers problem details, and none creates or changes
/// anything.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed class MalformedInputTests(SiloHostFactory host, ITestOutputHelper output)
{
    private const int Seed = 20261123;

    private readonly HostApi _api = new(host.CreateClient());

    [Fact]
    public async Task MalformedRequests_OnEveryRoute_AnswerProblemDetails_AndCreateOrChangeNothing()
    {
        var known = await Known.Create(_api);
        var before = await known.Snapshot(_api);
        var generator = new BadRequests(new Random(Seed), known);
        var requests = generator.All();

        var replies = new Reply[requests.Count];
        var failures = new List<string>();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, requests.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) =>
            {
                try
                {
                    replies[i] = await Send(_api.Http, requests[i]);
                }
                catch (HttpRequestException ex)
                {
                    lock (failures)
                    {
                        failures.Add($"#{i} {requests[i]} -> no answer: {ex.Message}");
                    }
                }
            });

        Report(requests, replies);
        for (var i = 0; i < requests.Count; i++)
        {
            if (replies[i] is not null && Problem(requests[i], replies[i]) is { } problem)
            {
                failures.Add($"#{i} {requests[i]} -> {(int)replies[i].Status} {replies[i].ContentType} {Preview(replies[i].Body)}: {problem}");
            }
        }

        // Nothing was created: every fresh id named in a route, a body or an idempotency key is still unknown.
        foreach (var (path, reply) in await GetAll(generator.FreshResources()))
        {
            if (reply.Status != HttpStatusCode.NotFound)
            {
                failures.Add($"{path} exists after refused requests: {(int)reply.Status} {Preview(reply.Body)}");
            }
        }

        // Nothing was changed: the known queue, agent (ready, with its offer) and session look the same.
        var after = await known.Snapshot(_api);
        foreach (var (path, view) in before)
        {
            if (after[path] != view)
            {
                failures.Add($"{path} changed:\n  before {view}\n  after  {after[path]}");
            }
        }

        Assert.True(requests.Count >= 500, $"Only {requests.Count} requests");
        var routes = requests.Select(r => r.Route).ToHashSet(StringComparer.Ordinal);
        Assert.All(BadRequests.Routes, route => Assert.Contains(route, routes));
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests.Count} malformed requests were answered wrongly:\n{string.Join("\n", failures)}");
    }

    /// <summary>Why a reply is wrong, or null: no 5xx; problem details with a status in 400..415 (and the expected
    /// one where the request says).</summary>
    private static string? Problem(BadRequest request, Reply reply)
    {
        var status = (int)reply.Status;
        if (status >= 500)
        {
            return "server error";
        }

        if (status is < 400 or > 415)
        {
            return "not a 4xx between 400 and 415";
        }

        if (request.Expect is { } expected && status != expected)
        {
            return $"expected {expected}";
        }

        if (reply.ContentType != "application/problem+json")
        {
            return "not application/problem+json";
        }

        return reply.Json?["status"]?.GetValue<int>() == status ? null : "the problem's status differs";
    }

    private void Report(IReadOnlyList<BadRequest> requests, Reply[] replies)
    {
        output.WriteLine($"Seed {Seed}: {requests.Count} malformed requests");
        foreach (var group in replies.GroupBy(r => r is null ? 0 : (int)r.Status).OrderBy(g => g.Key))
        {
            output.WriteLine($"  {group.Key}: {group.Count()}");
        }

        output.WriteLine("By route:");
        foreach (var group in requests.Select((r, i) => (r.Route, Status: replies[i] is { } reply ? (int)reply.Status : 0)).GroupBy(r => r.Route).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = string.Join(", ", group.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
            output.WriteLine($"  {group.Key}: {group.Count()} ({statuses})");
        }
    }

    private async Task<List<(string Path, Reply Reply)>> GetAll(IEnumerable<string> paths)
    {
        var list = paths.Distinct(StringComparer.Ordinal).ToList();
        var replies = new Reply[list.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, list.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => replies[i] = await _api.Get(list[i]));
        return [.. list.Zip(replies)];
    }

    private static async Task<Reply> Send(HttpClient http, BadRequest request)
    {
        using var message = new HttpRequestMessage(request.Method, request.Path);
        if (request.Body is { } body)
        {
            message.Content = request.Chunked ? new UnknownLengthContent(body) : new ByteArrayContent(body);
            if (request.ContentType is { } contentType)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        if (request.IdempotencyKey is { } key)
        {
            message.Headers.TryAddWithoutValidation(SessionsApi.IdempotencyKeyHeader, key);
        }

        using var response = await http.SendAsync(message);
        return await Reply.Read(response);
    }

    private static string Preview(string text) => text.Length <= 300 ? text : text[..300] + $"… ({text.Length} chars)";

    /// <summary>A body sent without a Content-Length (chunked), so only reading it shows that it is too large.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>The state the bad requests must not change: a queue, a ready agent with a pending offer of a
    /// session of that queue.</summary>
    private sealed record Known(string QueueId, string AgentId, string SessionId)
    {
        public static async Task<Known> Create(HostApi api)
        {
            var queue = await api.PutQueue("malformed-q", """{ "offerTimeoutSeconds": 3600, "wrapUpSeconds": 5, "headStart": { "vip": "strict" } }""");
            const string agent = "malformed-a";
            await api.PutAgent(agent, queue);
            await api.SetState(agent, "ready");
            var created = await api.Post(
                "/v1/sessions",
                $$"""{ "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-1", "age": 70 }, "skills": { "cards": 2 } }""",
                "malformed-known-session");
            Assert.Equal(HttpStatusCode.Created, created.Status);
            var session = created.Json!.Str("id");
            await api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered" && s.StrOrNull("agentId") == agent);
            await api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
            return new Known(queue, agent, session);
        }

        public async Task<Dictionary<string, string>> Snapshot(HostApi api)
        {
            var views = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var path in new[] { $"/v1/queues/{QueueId}", $"/v1/agents/{AgentId}", $"/v1/sessions/{SessionId}" })
            {
                views[path] = (await api.Get(path)).Ok().ToJsonString();
            }

            return views;
        }
    }

    /// <summary>One malformed request, and the status it must get where that is certain.</summary>
    private sealed record BadRequest(string Route, HttpMethod Method, string Path, string What, byte[]? Body = null, string? ContentType = null, int? Expect = null)
    {
        public bool Chunked { get; init; }

        public string? IdempotencyKey { get; init; }

        public override string ToString()
        {
            var body = Body is null ? "no body" : Encoding.UTF8.GetString(Body);
            var key = IdempotencyKey is null ? string.Empty : $" Idempotency-Key: {(IdempotencyKey.Length > 40 ? IdempotencyKey[..40] + "…" : IdempotencyKey)}";
            return $"{What}: {Method} {(Path.Length > 160 ? Path[..160] + "…" : Path)} [{ContentType ?? "no content type"}{(Chunked ? ", chunked" : string.Empty)}]{key} {Preview(body)}";
        }
    }

    /// <summary>Makes the malformed requests from a seeded <see cref="Random"/>, and remembers every fresh id it put
    /// in them (none of which may exist afterwards).</summary>
    private sealed class BadRequests(Random random, Known known)
    {
        private const string Json = "application/json";
        private const string CreateSession = "POST /v1/sessions";
        private const string GetSession = "GET /v1/sessions/{id}";
        private const string Abandon = "POST /v1/sessions/{id}/abandon";
        private const string Transfer = "POST /v1/sessions/{id}/transfer";
        private const string Events = "GET /v1/sessions/{id}/events";
        private const string PutAgent = "PUT /v1/agents/{id}";
        private const string GetAgent = "GET /v1/agents/{id}";
        private const string SetState = "POST /v1/agents/{id}/state";
        private const string Accept = "POST /v1/agents/{id}/offers/{sessionId}/accept";
        private const string Reject = "POST /v1/agents/{id}/offers/{sessionId}/reject";
        private const string End = "POST /v1/agents/{id}/sessions/{sessionId}/end";
        private const string WrapUpDone = "POST /v1/agents/{id}/sessions/{sessionId}/wrap-up-done";
        private const string PutQueue = "PUT /v1/queues/{id}";
        private const string GetQueue = "GET /v1/queues/{id}";

        public static readonly string[] Routes =
            [CreateSession, GetSession, Abandon, Transfer, Events, PutAgent, GetAgent, SetState, Accept, Reject, End, WrapUpDone, PutQueue, GetQueue];

        private static readonly string Long129 = Quote(new string('x', 129));

        /// <summary>Route ids that are not ids (escaped as they go in the URL): 400, or 404 where the path no
        /// longer matches a route once decoded.</summary>
        private static readonly string[] BadRouteIds =
        [
            "bad%20id", "a%2Fb", "%C3%A4", "%F0%9F%98%80", "%E2%80%8B", "a%3Bb", "a'b", "a+b", "*", "~x", "a%01b", "a%0Ab", "%C3%28",
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "a%22b", "%25", "a,b", "a@b", "(x)", "!", "$",
            new string('x', 129), new string('y', 2000), new string('z', 6000),
        ];

        private readonly List<string> _freshQueues = [];
        private readonly List<string> _freshAgents = [];
        private readonly List<string> _freshSessions = [];

        /// <summary>GET paths of every fresh id used: each must answer 404 afterwards.</summary>
        public IEnumerable<string> FreshResources() =>
            _freshQueues.Select(q => $"/v1/queues/{q}")
                .Concat(_freshAgents.Select(a => $"/v1/agents/{a}"))
                .Concat(_freshSessions.Select(s => $"/v1/sessions/{s}"));

        public List<BadRequest> All()
        {
            var requests = new List<BadRequest>();
            requests.AddRange(SessionBodies());
            requests.AddRange(TransferBodies());
            requests.AddRange(AgentBodies());
            requests.AddRange(StateBodies());
            requests.AddRange(QueueBodies());
            foreach (var route in new[] { CreateSession, Transfer, PutAgent, SetState, PutQueue })
            {
                requests.AddRange(BrokenBodies(route));
            }

            requests.AddRange(BadIds());
            requests.AddRange(UnknownIds());
            requests.AddRange(WrongMethods());
            return requests;
        }

        // ---- Field by field: wrong types, out-of-range values, unknown enum values, huge strings ----

        private IEnumerable<BadRequest> SessionBodies()
        {
            var mutations = new (string Field, string[] Values)[]
            {
                ("queueId", ["null", "\"\"", "5", "true", "[]", "{}", "\"bad id\"", "\"q/1\"", Long129, "\"ä\"", "\"\\ud800\"", Quote(FreshQueue())]),
                ("channel", ["null", "\"fax\"", "\"Voice\"", "\"VOICE\"", "\"5G\"", "\"we-chat\"", "\"\"", "0", "1", "true", "[]", "{}", "[\"voice\"]", "\"\\ud800\""]),
                ("customer",
                [
                    "null", "\"c-1\"", "5", "[]", "true", "{}", """{ "id": null }""", """{ "id": "" }""", """{ "id": 5 }""",
                    $$"""{ "id": {{Long129}} }""", """{ "id": "c", "age": -1 }""", """{ "id": "c", "age": 151 }""", """{ "id": "c", "age": 1e9 }""",
                    """{ "id": "c", "age": "72" }""", """{ "id": "c", "age": 72.5 }""", """{ "id": "c", "age": 2147483648 }""",
                    """{ "id": "c", "segments": "vip" }""", """{ "id": "c", "segments": [ "kids" ] }""", """{ "id": "c", "segments": [ null ] }""",
                    """{ "id": "c", "segments": [ 1 ] }""", """{ "id": "c", "phone": "123" }""", """{ "id": "c", "id": "d" }""",
                    $$"""{ "id": "{{new string('c', 20_000)}}" }""",
                ]),
                ("skills", SkillMutations()),
                ("preferredAgentId", ["5", "true", "[]", "{}", "\"\"", "\"bad id\"", Long129]),
                ("preferredAgentWaitSeconds", ["-1", "\"5\"", "\"NaN\"", "\"Infinity\"", "86401", "1e300", "1e400", "-1e400", "true", "[]", "{}", "NaN", "-Infinity"]),
                ("attributes",
                [
                    "[]", "\"x\"", "5", """{ "ivr": 5 }""", """{ "ivr": null }""", """{ "ivr": {} }""", """{ "ivr": [] }""", """{ "": "x" }""",
                    $$"""{ {{Long129}}: "x" }""", $$"""{ "ivr": "{{new string('v', 1025)}}" }""", Map(65, i => $"\"k{i}\": \"v\""),
                    """{ "ivr": "a", "ivr": "b" }""", """{ "\ud800": "x" }""",
                ]),
            };

            var body = new JsonObject
            {
                ["queueId"] = known.QueueId,
                ["channel"] = "voice",
                ["customer"] = new JsonObject { ["id"] = "c-7", ["age"] = 40, ["segments"] = new JsonArray("vip") },
                ["skills"] = new JsonObject { ["cards"] = 2 },
                ["preferredAgentId"] = "a-elsewhere",
                ["preferredAgentWaitSeconds"] = 5,
                ["attributes"] = new JsonObject { ["ivr"] = "loss" },
            };

            foreach (var text in Mutate(body, mutations, ["queueId", "channel", "customer"], ("channel", "\"chat\""), ("priority", "1"), ("QueueId", "\"x\"")))
            {
                yield return Session(text.What, Bytes(text.Json), Json, 400);
            }

            // An idempotency key that is not one: refused before anything is created.
            var valid = Bytes(body.ToJsonString());
            foreach (var key in new[] { "   ", new string('k', 256), new string('k', 5000) })
            {
                yield return new BadRequest(CreateSession, HttpMethod.Post, "/v1/sessions", "bad idempotency key", valid, Json, 400) { IdempotencyKey = key };
            }
        }

        private IEnumerable<BadRequest> TransferBodies()
        {
            var mutations = new (string Field, string[] Values)[]
            {
                ("queueId", ["5", "true", "[]", "{}", "\"\"", "\"bad id\"", Long129, "\"\\udfff\""]),
                ("agentId", ["5", "true", "[]", "{}", "\"\"", "\"bad id\"", Long129, "[ \"a\" ]"]),
            };
            var body = new JsonObject { ["queueId"] = known.QueueId, ["agentId"] = "a-elsewhere" };
            var texts = Mutate(body, mutations, [], ("agentId", "\"a-2\""), ("reason", "\"x\""))
                .Append((What: "neither queueId nor agentId", Json: "{}"))
                .Append((What: "both null", Json: """{ "queueId": null, "agentId": null }"""));
            foreach (var text in texts)
            {
                yield return new BadRequest(Transfer, HttpMethod.Post, $"/v1/sessions/{KnownOrFreshSession()}/transfer", text.What, Bytes(text.Json), Json, 400);
            }

            // Well-formed, but the target does not exist: 400 for a known session, 404 for an unknown one.
            yield return new BadRequest(Transfer, HttpMethod.Post, $"/v1/sessions/{known.SessionId}/transfer", "unknown target queue", Bytes($$"""{ "queueId": "{{FreshQueue()}}" }"""), Json, 400);
            yield return new BadRequest(Transfer, HttpMethod.Post, $"/v1/sessions/{known.SessionId}/transfer", "unknown target agent", Bytes($$"""{ "agentId": "{{FreshAgent()}}" }"""), Json, 400);
            yield return new BadRequest(Transfer, HttpMethod.Post, $"/v1/sessions/{FreshSession()}/transfer", "unknown session", Bytes($$"""{ "queueId": "{{known.QueueId}}" }"""), Json, 404);
        }

        private IEnumerable<BadRequest> AgentBodies()
        {
            var mutations = new (string Field, string[] Values)[]
            {
                ("name", ["5", "true", "[]", "{}", "\"\"", Quote(new string('n', 201)), Quote(new string('n', 30_000))]),
                ("skills", SkillMutations()),
                ("queues", ["\"cards\"", "5", "{}", "[ 5 ]", "[ null ]", "[ \"bad id\" ]", "[ \"\" ]", $"[ {Long129} ]", "[ [] ]", "[ {} ]", List(65, i => $"\"q{i}\"")]),
                ("capacity",
                [
                    "[]", "\"x\"", "5", """{ "voice": 101 }""", """{ "voice": -1 }""", """{ "voice": "1" }""", """{ "voice": 1.5 }""",
                    """{ "voice": null }""", """{ "fax": 1 }""", """{ "Voice": 1 }""", """{ "5G": 1 }""", """{ "voice": 1e9 }""", """{ "voice": 1, "voice": 2 }""",
                    """{ "chat": [] }""",
                ]),
            };
            var body = new JsonObject
            {
                ["name"] = "Mal Formed",
                ["skills"] = new JsonObject { ["cards"] = 3 },
                ["queues"] = new JsonArray(known.QueueId),
                ["capacity"] = new JsonObject { ["voice"] = 1, ["chat"] = 3 },
            };
            foreach (var text in Mutate(body, mutations, [], ("name", "\"Other\""), ("team", "\"blue\"")))
            {
                yield return new BadRequest(PutAgent, HttpMethod.Put, $"/v1/agents/{KnownOrFreshAgent()}", text.What, Bytes(text.Json), Json, 400);
            }
        }

        private IEnumerable<BadRequest> StateBodies()
        {
            var mutations = new (string Field, string[] Values)[]
            {
                ("state", ["null", "\"busy\"", "\"Ready\"", "\"READY\"", "\"not_ready\"", "\"notready\"", "\"not ready\"", "\"\"", "0", "1", "true", "[]", "{}", "[ \"ready\" ]", "\"logged_out\""]),
                ("reason", ["5", "true", "[]", "{}", "\"\"", "\"coffee break\"", Long129, "\"\\ud800\""]),
            };
            var body = new JsonObject { ["state"] = "not-ready", ["reason"] = "break" };
            foreach (var text in Mutate(body, mutations, ["state"], ("state", "\"ready\""), ("until", "\"10:00\"")))
            {
                yield return new BadRequest(SetState, HttpMethod.Post, $"/v1/agents/{KnownOrFreshAgent()}/state", text.What, Bytes(text.Json), Json, 400);
            }
        }

        private IEnumerable<BadRequest> QueueBodies()
        {
            var mutations = new (string Field, string[] Values)[]
            {
                ("name", ["5", "true", "[]", "{}", "\"\"", Quote(new string('n', 201))]),
                ("serviceLevelSeconds", ["0", "-1", "-0.001", "\"20\"", "\"NaN\"", "NaN", "Infinity", "1e400", "86401", "1e300", "true", "[]", "{}"]),
                ("offerTimeoutSeconds", ["0", "-5", "\"15\"", "1e9", "[]", "-Infinity", "-1e400"]),
                ("wrapUpSeconds", ["-1", "\"10\"", "86400.5", "{}", "1e300", "false"]),
                ("elderlyAge", ["-1", "151", "1e9", "\"65\"", "65.5", "2147483648", "true", "[ 65 ]"]),
                ("headStart",
                [
                    "\"strict\"", "60", "[]", """{ "elderly": "lenient" }""", """{ "elderly": -1 }""", """{ "elderly": true }""", """{ "elderly": null }""",
                    """{ "elderly": [] }""", """{ "kids": 60 }""", """{ "Elderly": 60 }""", """{ "elderly": 86401 }""", """{ "elderly": "STRICT" }""",
                    """{ "elderly": NaN }""", """{ "elderly": 1e400 }""", """{ "vip": 30, "vip": "strict" }""",
                ]),
                ("agentSelection", ["\"random\"", "\"Longest-Idle\"", "\"longest_idle\"", "\"longestIdle\"", "0", "true", "[]", "{}", "\"\""]),
                ("relaxation",
                [
                    "{}", "\"x\"", "5", "[ null ]", "[ \"x\" ]", "[ {} ]", """[ { "afterSeconds": 30 } ]""", """[ { "lowerBy": 1 } ]""",
                    """[ { "afterSeconds": -1, "lowerBy": 1 } ]""", """[ { "afterSeconds": 30, "lowerBy": 0 } ]""", """[ { "afterSeconds": 30, "lowerBy": 6 } ]""",
                    """[ { "afterSeconds": "30", "lowerBy": 1 } ]""", """[ { "afterSeconds": 30, "lowerBy": 1, "skill": "cards" } ]""",
                    """[ { "afterSeconds": 30, "lowerBy": 1.5 } ]""", """[ { "afterSeconds": 1e400, "lowerBy": 1 } ]""",
                    List(17, i => $$"""{ "afterSeconds": {{i}}, "lowerBy": 1 }"""),
                ]),
                ("maxWaiting", ["0", "-1", "1000001", "1e9", "\"100\"", "1.5", "true", "9223372036854775808"]),
                ("maxWaitSeconds", ["0", "-1", "\"900\"", "1e300", "Infinity", "86401"]),
                ("overflowQueueId", ["5", "true", "[]", "{}", "\"\"", "\"bad id\"", Long129]),
            };
            var body = new JsonObject
            {
                ["name"] = "Malformed",
                ["serviceLevelSeconds"] = 20,
                ["offerTimeoutSeconds"] = 15,
                ["wrapUpSeconds"] = 10,
                ["elderlyAge"] = 65,
                ["headStart"] = new JsonObject { ["elderly"] = 60, ["vip"] = "strict" },
                ["agentSelection"] = "longest-idle",
                ["relaxation"] = new JsonArray(new JsonObject { ["afterSeconds"] = 30, ["lowerBy"] = 1 }),
                ["maxWaiting"] = 100,
                ["maxWaitSeconds"] = 900,
                ["overflowQueueId"] = null,
            };
            foreach (var text in Mutate(body, mutations, [], ("maxWaiting", "5"), ("slaSeconds", "20"), ("ServiceLevelSeconds", "20")))
            {
                yield return new BadRequest(PutQueue, HttpMethod.Put, $"/v1/queues/{KnownOrFreshQueue()}", text.What, Bytes(text.Json), Json, 400);
            }

            // A queue that overflows into itself.
            var self = FreshQueue();
            yield return new BadRequest(PutQueue, HttpMethod.Put, $"/v1/queues/{self}", "overflow into itself", Bytes($$"""{ "overflowQueueId": "{{self}}" }"""), Json, 400);
            yield return new BadRequest(PutQueue, HttpMethod.Put, $"/v1/queues/{known.QueueId}", "overflow into itself", Bytes($$"""{ "overflowQueueId": "{{known.QueueId}}" }"""), Json, 400);
        }

        private static string[] SkillMutations() =>
        [
            "\"cards\"", "5", "[]", "[ 1 ]", """{ "cards": 0 }""", """{ "cards": 6 }""", """{ "cards": -1 }""", """{ "cards": "2" }""",
            """{ "cards": 2.5 }""", """{ "cards": null }""", """{ "cards": {} }""", """{ "bad skill": 2 }""", """{ "": 2 }""",
            $$"""{ {{Long129}}: 2 }""", """{ "cards": 2, "cards": 3 }""", """{ "cards": 2147483648 }""", Map(65, i => $"\"s{i}\": 1"),
            """{ "\udc00": 1 }""",
        ];

        // ---- The body as a whole: broken JSON, random bytes, wrong roots, empty, wrong content types, oversized ----

        private IEnumerable<BadRequest> BrokenBodies(string route)
        {
            var valid = route switch
            {
                CreateSession => $$$"""{"queueId":"{{{known.QueueId}}}","channel":"chat","customer":{"id":"c-8","age":81,"segments":["elderly","vip"]},"skills":{"cards":2},"attributes":{"ivr":"loss"}}""",
                Transfer => $$"""{"queueId":"{{known.QueueId}}","agentId":"{{known.AgentId}}"}""",
                PutAgent => $$$"""{"name":"Li Wei","skills":{"cards":4,"mandarin":5},"queues":["{{{known.QueueId}}}"],"capacity":{"voice":1,"chat":3}}""",
                SetState => """{"state":"not-ready","reason":"break"}""",
                _ => """{"name":"Cards","serviceLevelSeconds":20,"headStart":{"elderly":60,"vip":"strict"},"agentSelection":"most-skilled","relaxation":[{"afterSeconds":30,"lowerBy":1}],"maxWaiting":10}""",
            };

            // Truncated at random points: never valid JSON (the last character closes the object).
            foreach (var cut in Enumerable.Range(0, 14).Select(_ => random.Next(0, valid.Length - 1)).Distinct())
            {
                yield return Body(route, $"truncated at {cut}", Bytes(valid[..cut]), Json, 400);
            }

            // Random bytes (mostly not UTF-8), and valid bodies with invalid UTF-8 inside a string.
            for (var i = 0; i < 6; i++)
            {
                var bytes = new byte[random.Next(1, 300)];
                random.NextBytes(bytes);
                yield return Body(route, "random bytes", bytes, Json, 400);
            }

            var quote = valid.IndexOf(":\"", StringComparison.Ordinal) + 2;
            yield return Body(route, "invalid UTF-8 in a string", [.. Bytes(valid[..quote]), 0xFF, 0xFE, 0xC3, .. Bytes(valid[quote..])], Json, 400);
            yield return Body(route, "overlong UTF-8 in a string", [.. Bytes(valid[..quote]), 0xC0, 0xAF, .. Bytes(valid[quote..])], Json, 400);

            var broken = new[]
            {
                "{", "}", "[", "]", "{]", "[}", "{{}}", "{\"a\":1", "{\"a\":}", "{\"a\" 1}", "{'a': 1}", "{a: 1}", "{\"a\":1,}",
                "[1,2", "{\"a\":[1,2}", "{\"a\":{\"b\":1}", valid + "}", valid + "]", valid + valid, valid + ",", valid[..^1] + ",}",
                "{}}", "\"unterminated", "tru", "nul", "{\"a\":1}/*comment*/", "// comment\n" + valid, valid.Replace(":", "=", StringComparison.Ordinal),
                valid.Replace("\"", "'", StringComparison.Ordinal), string.Concat(Enumerable.Repeat("{\"a\":", 20)) + "1" + new string('}', 20),
                new string('[', 5000) + new string(']', 5000), new string('{', 3000), "\0", "\u001f{}",
            };
            foreach (var text in broken)
            {
                yield return Body(route, "broken JSON", Bytes(text), Json, 400);
            }

            foreach (var root in new[] { "null", "[]", "42", "\"x\"", "true", "[{}]", "-0", "1e400" })
            {
                yield return Body(route, "not an object", Bytes(root), Json, 400);
            }

            yield return Body(route, "no body", null, null, 400);
            yield return Body(route, "empty body", [], Json, 400);
            yield return Body(route, "whitespace body", Bytes("  \r\n\t "), Json, 400);

            foreach (var contentType in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "text/html; charset=utf-8", "application/jsonx", "json" })
            {
                yield return Body(route, "wrong content type", Bytes(valid), contentType, 415);
            }

            yield return Body(route, "no content type", Bytes(valid), null, 415);

            var padding = new string(' ', (64 * 1024) + 1 - valid.Length);
            var oversized = Bytes(valid[..^1] + padding + "}");
            yield return Body(route, "one byte over 64 KiB", oversized, Json, 413);
            yield return Body(route, "one byte over 64 KiB", oversized, Json, 413) with { Chunked = true };
            yield return Body(route, "1 MiB", Bytes(valid[..^1] + new string(' ', 1024 * 1024) + "}"), Json, 413) with { Chunked = random.Next(2) == 0 };
            yield return Body(route, "1 MiB of zeros", new byte[1024 * 1024], Json, 413);

            // Not JSON and too large: refused either way (routing checks the content type first).
            yield return Body(route, "1 MiB of text", Bytes(new string('x', 1024 * 1024)), "text/plain", null);
        }

        /// <summary>A request to a body route, on a fresh id or (where the route acts on one) a known one.</summary>
        private BadRequest Body(string route, string what, byte[]? body, string? contentType, int? expect) => route switch
        {
            CreateSession => Session(what, body, contentType, expect),
            Transfer => new BadRequest(route, HttpMethod.Post, $"/v1/sessions/{KnownOrFreshSession()}/transfer", what, body, contentType, expect),
            PutAgent => new BadRequest(route, HttpMethod.Put, $"/v1/agents/{KnownOrFreshAgent()}", what, body, contentType, expect),
            SetState => new BadRequest(route, HttpMethod.Post, $"/v1/agents/{KnownOrFreshAgent()}/state", what, body, contentType, expect),
            _ => new BadRequest(route, HttpMethod.Put, $"/v1/queues/{KnownOrFreshQueue()}", what, body, contentType, expect),
        };

        /// <summary>A create with a fresh idempotency key (so the session it must not create has a known id).</summary>
        private BadRequest Session(string what, byte[]? body, string? contentType, int? expect)
        {
            var key = $"malformed-{random.Next():x8}-{random.Next():x8}";
            _freshSessions.Add(SessionsApi.SessionIdForKey(TestTokens.Gateway, key));
            return new BadRequest(CreateSession, HttpMethod.Post, "/v1/sessions", what, body, contentType, expect) { IdempotencyKey = key };
        }

        // ---- Route ids: invalid (400), unknown (404) ----

        private IEnumerable<BadRequest> BadIds()
        {
            var validBodies = new Dictionary<string, string>
            {
                [Transfer] = $$"""{ "queueId": "{{known.QueueId}}" }""",
                [PutAgent] = $$"""{ "name": "x", "queues": [ "{{known.QueueId}}" ] }""",
                [SetState] = """{ "state": "ready" }""",
                [PutQueue] = "{}",
            };
            foreach (var bad in BadRouteIds)
            {
                foreach (var (route, method, path) in Paths(bad, FreshSession()))
                {
                    var body = validBodies.TryGetValue(route, out var json) ? Bytes(json) : null;
                    yield return new BadRequest(route, method, path, "invalid id", body, body is null ? null : Json);
                }

                // The second id of an agent's action on a session.
                foreach (var (route, method, path) in Paths(known.AgentId, bad).Where(p => p.Path.Contains("/offers/", StringComparison.Ordinal) || p.Path.Contains("/sessions/", StringComparison.Ordinal)).Where(p => p.Path.StartsWith("/v1/agents/", StringComparison.Ordinal)))
                {
                    yield return new BadRequest(route, method, path, "invalid session id", null, null);
                }
            }
        }

        /// <summary>Well-formed ids that do not exist (404), including an agent's actions on the known agent or the
        /// known session with the other id unknown: refused, nothing changes.</summary>
        private IEnumerable<BadRequest> UnknownIds()
        {
            for (var i = 0; i < 3; i++)
            {
                foreach (var (route, method, path) in Paths(i == 0 ? FreshAgent() : FreshQueueOrAgent(), FreshSession()).Where(p => p.Method == HttpMethod.Get || p.Route is Abandon or Accept or Reject or End or WrapUpDone))
                {
                    yield return new BadRequest(route, method, path, "unknown id", null, null, 404);
                }
            }

            yield return new BadRequest(GetSession, HttpMethod.Get, $"/v1/sessions/{FreshSession()}", "unknown session", Expect: 404);
            yield return new BadRequest(Events, HttpMethod.Get, $"/v1/sessions/{FreshSession()}/events", "unknown session", Expect: 404);
            yield return new BadRequest(Abandon, HttpMethod.Post, $"/v1/sessions/{FreshSession()}/abandon", "unknown session", Expect: 404);
            foreach (var (route, action) in new[] { (Accept, "offers/{0}/accept"), (Reject, "offers/{0}/reject"), (End, "sessions/{0}/end"), (WrapUpDone, "sessions/{0}/wrap-up-done") })
            {
                var onUnknownSession = string.Format(CultureInfo.InvariantCulture, action, FreshSession());
                yield return new BadRequest(route, HttpMethod.Post, $"/v1/agents/{known.AgentId}/{onUnknownSession}", "known agent, unknown session", Expect: 404);
                var onKnownSession = string.Format(CultureInfo.InvariantCulture, action, known.SessionId);
                yield return new BadRequest(route, HttpMethod.Post, $"/v1/agents/{FreshAgent()}/{onKnownSession}", "unknown agent, known session");
            }

            // The known agent's own session is offered, not connected or in wrap-up: ending it is not allowed.
            yield return new BadRequest(End, HttpMethod.Post, $"/v1/agents/{known.AgentId}/sessions/{known.SessionId}/end", "not connected", Expect: 409);
            yield return new BadRequest(WrapUpDone, HttpMethod.Post, $"/v1/agents/{known.AgentId}/sessions/{known.SessionId}/wrap-up-done", "not in wrap-up", Expect: 409);
        }

        private IEnumerable<BadRequest> WrongMethods()
        {
            yield return new BadRequest("DELETE /v1/queues/{id}", HttpMethod.Delete, $"/v1/queues/{known.QueueId}", "wrong method", Expect: 405);
            yield return new BadRequest("PATCH /v1/agents/{id}", HttpMethod.Patch, $"/v1/agents/{known.AgentId}", "wrong method", Bytes("""{ "name": "x" }"""), Json, 405);
            yield return new BadRequest("PUT /v1/sessions/{id}", HttpMethod.Put, $"/v1/sessions/{known.SessionId}", "wrong method", Bytes("{}"), Json, 405);
            yield return new BadRequest("DELETE /v1/sessions/{id}", HttpMethod.Delete, $"/v1/sessions/{known.SessionId}", "wrong method", Expect: 405);
            yield return new BadRequest("GET /v1/agents/{id}/state", HttpMethod.Get, $"/v1/agents/{known.AgentId}/state", "wrong method", Expect: 405);
            yield return new BadRequest("GET /v1/sessions", HttpMethod.Get, "/v1/sessions", "wrong method", Expect: 405);
            yield return new BadRequest("POST /v1/queues/{id}", HttpMethod.Post, $"/v1/queues/{known.QueueId}", "wrong method", Bytes("{}"), Json, 405);
        }

        /// <summary>Every route with <paramref name="id"/> as its first id and <paramref name="sessionId"/> as the
        /// session of an agent's action.</summary>
        private static IEnumerable<(string Route, HttpMethod Method, string Path)> Paths(string id, string sessionId) =>
        [
            (GetSession, HttpMethod.Get, $"/v1/sessions/{id}"),
            (Abandon, HttpMethod.Post, $"/v1/sessions/{id}/abandon"),
            (Transfer, HttpMethod.Post, $"/v1/sessions/{id}/transfer"),
            (Events, HttpMethod.Get, $"/v1/sessions/{id}/events"),
            (PutAgent, HttpMethod.Put, $"/v1/agents/{id}"),
            (GetAgent, HttpMethod.Get, $"/v1/agents/{id}"),
            (SetState, HttpMethod.Post, $"/v1/agents/{id}/state"),
            (Accept, HttpMethod.Post, $"/v1/agents/{id}/offers/{sessionId}/accept"),
            (Reject, HttpMethod.Post, $"/v1/agents/{id}/offers/{sessionId}/reject"),
            (End, HttpMethod.Post, $"/v1/agents/{id}/sessions/{sessionId}/end"),
            (WrapUpDone, HttpMethod.Post, $"/v1/agents/{id}/sessions/{sessionId}/wrap-up-done"),
            (PutQueue, HttpMethod.Put, $"/v1/queues/{id}"),
            (GetQueue, HttpMethod.Get, $"/v1/queues/{id}"),
        ];

        // ---- Building bodies and ids ----

        /// <summary>The body with one field replaced by each bad value in turn, each required field left out,
        /// a field repeated, and unknown fields added.</summary>
        private static IEnumerable<(string What, string Json)> Mutate(
            JsonObject body, (string Field, string[] Values)[] mutations, string[] required, (string Name, string Value) duplicate, params (string Name, string Value)[] unknown)
        {
            foreach (var (field, values) in mutations)
            {
                foreach (var value in values)
                {
                    var copy = body.DeepClone().AsObject();
                    copy[field] = "\u0001raw\u0001";
                    yield return ($"{field} = {(value.Length > 60 ? value[..60] + "…" : value)}", copy.ToJsonString().Replace("\"\\u0001raw\\u0001\"", value, StringComparison.Ordinal));
                }
            }

            foreach (var field in required)
            {
                var copy = body.DeepClone().AsObject();
                copy.Remove(field);
                yield return ($"{field} missing", copy.ToJsonString());
            }

            var json = body.ToJsonString();
            foreach (var (name, value) in unknown)
            {
                yield return ($"unknown field {name}", json[..^1] + $",\"{name}\":{value}}}");
            }

            yield return ($"{duplicate.Name} repeated", json[..^1] + $",\"{duplicate.Name}\":{duplicate.Value}}}");
        }

        private string FreshId(string prefix) => $"{prefix}-{random.Next():x8}{random.Next():x8}";

        private string FreshQueue()
        {
            var id = FreshId("mq");
            _freshQueues.Add(id);
            return id;
        }

        private string FreshAgent()
        {
            var id = FreshId("ma");
            _freshAgents.Add(id);
            return id;
        }

        private string FreshSession()
        {
            var id = "s-" + FreshId("m")[2..].PadRight(32, '0');
            _freshSessions.Add(id);
            return id;
        }

        private string FreshQueueOrAgent()
        {
            // A well-formed id that is neither a session, an agent nor a queue.
            var id = FreshId("mx");
            _freshQueues.Add(id);
            _freshAgents.Add(id);
            _freshSessions.Add(id);
            return id;
        }

        private string KnownOrFreshSession() => random.Next(2) == 0 ? known.SessionId : FreshSession();

        private string KnownOrFreshAgent() => random.Next(2) == 0 ? known.AgentId : FreshAgent();

        private string KnownOrFreshQueue() => random.Next(2) == 0 ? known.QueueId : FreshQueue();

        private static string Quote(string text) => $"\"{text}\"";

        private static string Map(int count, Func<int, string> entry) => "{ " + string.Join(", ", Enumerable.Range(0, count).Select(entry)) + " }";

        private static string List(int count, Func<int, string> item) => "[ " + string.Join(", ", Enumerable.Range(0, count).Select(item)) + " ]";

        private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
    }
}
