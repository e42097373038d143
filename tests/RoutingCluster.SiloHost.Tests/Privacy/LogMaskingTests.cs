using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Privacy;
using RoutingCluster.Tests.Shared;
using Serilog;

namespace RoutingCluster.SiloHost.Tests.Privacy;

/// <summary>Should an object carrying a customer's personal data ever be logged, as text or destructured, the line holds
/// none of it (the host's Serilog destructures through <see cref="PersonalDataDestructuringPolicy"/>).</summary>
public sealed class LogMaskingTests
{
    private static readonly CustomerPseudonyms Pseudonyms = new(Convert.FromBase64String(TestTokens.PseudonymKey));

    [Fact]
    public void ObjectsCarryingPersonalData_LoggedDestructuredOrAsText_ShowNone()
    {
        var request = System.Text.Json.JsonSerializer.Deserialize<CreateSessionRequest>($$"""
            { "queueId": "cards", "channel": "voice", "customer": { "id": "{{PersonalData.CustomerId}}", "age": {{PersonalData.Age}} },
              "attributes": { "tier": "{{PersonalData.AttributeValue}}" } }
            """, WireJson.Requests)!;
        var session = request.ToNewSession(Pseudonyms);
        var enqueue = new EnqueueRequest { SessionId = "s-1", Channel = Channel.Voice, Arrival = DateTimeOffset.UnixEpoch, CustomerAge = PersonalData.Age };
        var record = new SessionRecord { Customer = session.Customer, Attributes = new() { ["tier"] = PersonalData.AttributeValue } };
        var recorder = new LogRecorder();
        using var logger = new LoggerConfiguration().MinimumLevel.Verbose().Destructure.With<PersonalDataDestructuringPolicy>()
            .WriteTo.Sink(recorder).CreateLogger();

        foreach (var value in new object[] { request, request.Customer!, session, session.Customer, enqueue, record })
        {
            logger.Verbose("Destructured {@Value}", value);
            logger.Verbose("As text {Value}", value);
        }

        Assert.Equal(12, recorder.Lines.Count);
        PersonalData.AssertNone(recorder.Lines, "the log lines");
        Assert.Contains(recorder.Lines, l => l.Contains(Pseudonyms.OfCustomer(PersonalData.CustomerId), StringComparison.Ordinal));
    }
}
