using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Grains.Privacy;
using Serilog.Core;
using Serilog.Events;

namespace RoutingCluster.Tests.Shared;

/// <summary>
/// The contract on a customer's personal data, as a scenario a test runs against a real host: a full lifecycle and
/// malformed requests, all carrying recognisable personal data, with every log line and every answer kept, so the test
/// can show that none of it comes back anywhere (<see cref="AssertNone"/>).
/// </summary>
/// <remarks>
/// The recognisable values: a customer id (<see cref="CustomerId"/>; searched as its digits, <see cref="CustomerDigits"/>,
/// which also finds it sent as a JSON number), an attribute value (<see cref="AttributeValue"/>) and an age
/// (<see cref="Age"/>, found by <see cref="AgePattern"/>: the word "age" then the number, so a time or a port never
/// matches it by chance).
/// </remarks>
public static partial class PersonalData
{
    public const string CustomerId = "CUST-8613912345678";

    public const string CustomerDigits = "8613912345678";

    public const string AttributeValue = "VIP-SECRET-ATTR";

    public const int Age = 113;

    /// <summary>The pseudonym the host gives <see cref="CustomerId"/> under the test key (<see cref="TestTokens.PseudonymKey"/>).</summary>
    public static string Pseudonym { get; } = new CustomerPseudonyms(Convert.FromBase64String(TestTokens.PseudonymKey)).OfCustomer(CustomerId);

    /// <summary>The options of a host whose logs <paramref name="recorder"/> keeps, at the most verbose level for every
    /// source (Microsoft.*, Orleans.*, System.Net.Http included).</summary>
    public static SiloHostOptions Verbose(SiloHostOptions options, LogRecorder recorder)
    {
        var settings = new Dictionary<string, string>(options.Settings)
        {
            ["Serilog:MinimumLevel:Override:System.Net.Http"] = "Verbose",
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
        };
        var services = options.Services;
        return options with
        {
            LogLevel = "Verbose",
            LogLevelForEverySource = true,
            Settings = settings,
            Services = s =>
            {
                services?.Invoke(s);
                s.AddSingleton<ILogEventSink>(recorder);
            },
        };
    }

    /// <summary>
    /// Runs the scenario on <paramref name="api"/> (a client with every role): a session created (and its create retried,
    /// and its idempotency key reused with another body), served to the end (offered, accepted, ended, wrapped up) and
    /// read at each step, its event stream read; a second one abandoned and a third refused by a full queue; and
    /// malformed requests, each carrying the customer's data where the contract does not allow it.
    /// <paramref name="whileLive"/> is called with the first session's id while it is queued.
    /// </summary>
    public static async Task<Run> RunAsync(HostApi api, Func<string, Task>? whileLive = null)
    {
        var answers = new List<string>();
        async Task<Reply> Keep(Task<Reply> request)
        {
            var reply = await request;
            answers.Add($"{(int)reply.Status} {reply.Headers} {reply.Body}");
            return reply;
        }

        // Offers wait long enough for a loaded machine: the scenario accepts each one it sees.
        var queue = await api.PutQueue(HostApi.NewId("privacy"), """{ "offerTimeoutSeconds": 300 }""");
        var full = await api.PutQueue(HostApi.NewId("privacy-full"), """{ "maxWaiting": 1 }""");
        var agent = HostApi.NewId("a-privacy");
        await api.PutAgent(agent, queue);
        var key = HostApi.NewId("key");
        var body = Create(queue, AttributeValue);

        // Created, retried (the same session), and the key reused with another body (refused without echoing either).
        var created = await Keep(api.Post("/v1/sessions", body, key));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var session = created.Json!.Str("id");
        Assert.Equal(HttpStatusCode.OK, (await Keep(api.Post("/v1/sessions", body, key))).Status);
        (await Keep(api.Post("/v1/sessions", Create(queue, AttributeValue + "-2"), key))).Problem(HttpStatusCode.Conflict);
        if (whileLive is not null)
        {
            await whileLive(session);
        }

        // Malformed: each refused with a problem naming the field, whatever the body carried.
        foreach (var (json, field) in Malformed(queue))
        {
            (await Keep(api.Post("/v1/sessions", json))).ValidationProblem(field);
        }

        (await Keep(api.Post("/v1/sessions", $$"""{ "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "{{CustomerId}}" """)))
            .Problem(HttpStatusCode.BadRequest);
        (await Keep(api.Post("/v1/sessions", Create(HostApi.NewId("no-such-queue"), AttributeValue)))).ValidationProblem("queueId");

        // Served to the end, read at every step.
        await Keep(api.Get($"/v1/sessions/{session}"));
        await Keep(api.Post($"/v1/agents/{agent}/state", """{ "state": "ready" }"""));
        var offered = await api.PollUntil($"/v1/sessions/{session}", s => s.Str("state") == "offered");
        answers.Add(offered.ToJsonString());
        await Keep(api.Get($"/v1/agents/{agent}"));
        (await Keep(api.Post($"/v1/agents/{agent}/offers/{session}/accept"))).Ok();
        await Keep(api.Get($"/v1/sessions/{session}"));
        (await Keep(api.Post($"/v1/agents/{agent}/sessions/{session}/end"))).Ok();
        (await Keep(api.Post($"/v1/agents/{agent}/sessions/{session}/wrap-up-done"))).Ok();
        Assert.Equal("completed", (await Keep(api.Get($"/v1/sessions/{session}"))).Ok().Str("state"));
        answers.Add(await EventsAsync(api, session));
        Assert.Equal(HttpStatusCode.OK, (await Keep(api.Post("/v1/sessions", body, key))).Status);   // a retry after the end

        // Abandoned while waiting, and refused by a full queue.
        var waiting = await Keep(api.Post("/v1/sessions", Create(full, AttributeValue)));
        Assert.Equal(HttpStatusCode.Created, waiting.Status);
        var abandoned = waiting.Json!.Str("id");
        var refused = (await Keep(api.Post("/v1/sessions", Create(full, AttributeValue)))).Problem(HttpStatusCode.Conflict).Str("sessionId");
        Assert.Equal("abandoned", (await Keep(api.Post($"/v1/sessions/{abandoned}/abandon"))).Ok().Str("state"));
        Assert.Equal("refused", (await Keep(api.Get($"/v1/sessions/{refused}"))).Ok().Str("state"));
        return new Run(session, abandoned, refused, answers);
    }

    /// <summary>Fails naming the first text (log line, answer, stored value) that holds any of the personal data.</summary>
    public static void AssertNone(IEnumerable<string> texts, string where)
    {
        var count = 0;
        foreach (var text in texts)
        {
            count++;
            Assert.False(text.Contains(CustomerDigits, StringComparison.Ordinal), $"The customer id in {where}: {text}");
            Assert.False(text.Contains(AttributeValue, StringComparison.Ordinal), $"An attribute value in {where}: {text}");
            Assert.False(AgePattern().IsMatch(text), $"The customer's age in {where}: {text}");
        }

        Assert.True(count > 0, $"Nothing to search in {where}");
    }

    /// <summary>The customer's age written after the word "age" (<c>"age":113</c>, <c>Age = 113</c>, <c>age 113</c>).</summary>
    [GeneratedRegex(@"\bage\b[""'\s:=]{0,4}113\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    public static partial Regex AgePattern();

    /// <summary>A create request for the customer, with the distinctive attribute (and the customer id inside another).</summary>
    private static string Create(string queue, string attribute) => $$"""
        { "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "{{CustomerId}}", "age": {{Age}}, "segments": [ "vip" ] },
          "skills": { "cards": 2 }, "attributes": { "tier": "{{attribute}}", "note": "caller {{CustomerId}}" } }
        """;

    /// <summary>Bodies the contract refuses, each carrying personal data in the field it names.</summary>
    private static IEnumerable<(string Json, string Field)> Malformed(string queue)
    {
        string With(string customer, string attributes = "{}") => $$"""
            { "queueId": "{{queue}}", "channel": "voice", "customer": {{customer}}, "skills": { "cards": 2 }, "attributes": {{attributes}} }
            """;
        yield return (With($$"""{ "id": {{CustomerDigits}}, "age": {{Age}} }"""), "customer.id");                   // the id as a number
        yield return (With($$"""{ "id": "{{CustomerId}}{{new string('9', 200)}}" }"""), "customer.id");             // too long
        yield return (With($$"""{ "id": "{{CustomerId}}", "age": "{{Age}}" }"""), "customer.age");                  // the age as a string
        yield return (With($$"""{ "id": "{{CustomerId}}", "age": {{Age}}.5 }"""), "customer.age");                 // not a whole number
        yield return (With($$"""{ "id": "{{CustomerId}}", "age": {{CustomerDigits}} }"""), "customer.age");         // out of range
        yield return (With($$"""{ "id": "{{CustomerId}}", "age": {{Age}}0 }"""), "customer.age");                   // over the limit
        yield return (With($$"""{ "id": "{{CustomerId}}", "segments": [ "{{CustomerId}}" ] }"""), "customer.segments[0]");
        yield return (With($$"""{ "id": "{{CustomerId}}", "phone": "{{CustomerDigits}}" }"""), "customer.phone");   // an unknown field
        yield return (With($$"""{ "id": "{{CustomerId}}" }""", $$"""{ "tier": {{CustomerDigits}} }"""), "attributes.tier");
        yield return (With($$"""{ "id": "{{CustomerId}}" }""", $$"""{ "tier": "{{AttributeValue}}{{new string('x', 1100)}}" }"""), "attributes.tier");
        yield return (With($$"""{ "id": "{{CustomerId}}" }""", $$"""{ "tier": null, "note": "{{AttributeValue}}" }"""), "attributes.tier");
        yield return ($$"""{ "queueId": "{{queue}}", "channel": "{{CustomerId}}", "customer": { "id": "{{CustomerId}}", "age": {{Age}} } }""", "channel");
        yield return ($$"""{ "queueId": "{{queue}}", "channel": "voice" }""", "customer");
    }

    /// <summary>The session's event stream as the client reads it (a finished session's stream ends after its state).</summary>
    private static async Task<string> EventsAsync(HostApi api, string session)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await api.Http.GetAsync($"/v1/sessions/{session}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(timeout.Token);
        Assert.Contains("completed", text, StringComparison.Ordinal);
        return text;
    }

    /// <summary>What <see cref="RunAsync"/> made: the sessions (served to the end, abandoned, refused) and every answer.</summary>
    public sealed record Run(string Completed, string Abandoned, string Refused, IReadOnlyList<string> Answers)
    {
        public IEnumerable<string> Ended => [Completed, Abandoned, Refused];
    }
}

/// <summary>A Serilog sink that keeps every event as text: its level, source, rendered message, every property (scopes
/// included) and its exception with the inner ones and stack traces.</summary>
public sealed class LogRecorder : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentDictionary<string, int> _verboseSources = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Whether an event at the most verbose level (Verbose, that is Trace) came from a source starting with
    /// <paramref name="prefix"/>: the proof that the host logged at that level there.</summary>
    public bool HasVerboseFrom(string prefix) => _verboseSources.Keys.Any(s => s.StartsWith(prefix, StringComparison.Ordinal));

    public void Emit(LogEvent logEvent)
    {
        var source = logEvent.Properties.TryGetValue("SourceContext", out var context) ? context.ToString().Trim('"') : "?";
        if (logEvent.Level == LogEventLevel.Verbose)
        {
            _verboseSources.TryAdd(source, 0);
        }

        var line = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{logEvent.Level} {source}: {logEvent.RenderMessage(CultureInfo.InvariantCulture)}");
        foreach (var (name, value) in logEvent.Properties)
        {
            line.Append(CultureInfo.InvariantCulture, $" {name}={value}");
        }

        if (logEvent.Exception is { } exception)
        {
            line.Append(' ').Append(exception);
        }

        _lines.Enqueue(line.ToString());
    }
}
