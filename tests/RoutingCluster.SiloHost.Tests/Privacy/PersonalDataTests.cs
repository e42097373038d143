using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Privacy;

/// <summary>
/// A customer's id, age and attributes never appear in logs, answers or error messages, and do not outlive the
/// session in the embedded storage: a full lifecycle and malformed requests carrying recognisable personal data, on
/// the real host on Kestrel, logging at the most verbose level from every source (Microsoft.*, Orleans.* included).
/// </summary>
public sealed class PersonalDataTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task LifecycleAndMalformedRequests_AtTraceLevel_LeaveNoPersonalData_InLogsOrAnswers()
    {
        var recorder = new LogRecorder();
        await using var host = SiloHostFactory.Create(PersonalData.Verbose(new SiloHostOptions { Kestrel = true, RecordFailures = true }, recorder));
        using var http = TestTokens.Client(host.BaseAddress);

        var run = await PersonalData.RunAsync(new HostApi(http));
        await host.Settle();

        // The host did log at the most verbose level, from the framework's sources too: the search below means something.
        Assert.True(recorder.HasVerboseFrom("Orleans."), "no Trace event from Orleans.*");
        Assert.True(recorder.HasVerboseFrom("Microsoft.AspNetCore."), "no Trace event from Microsoft.AspNetCore.*");
        PersonalData.AssertNone(recorder.Lines, "the host's logs");
        PersonalData.AssertNone(run.Answers, "the answers");
        Assert.Empty(host.Failures);
        output.WriteLine($"searched {recorder.Lines.Count} log events and {run.Answers.Count} answers");
    }

    [Fact]
    public async Task EmbeddedStorage_KeepsTheCustomerByItsPseudonymOnly_AndTheAgeAndAttributesUntilTheSessionEnds()
    {
        await using var host = SiloHostFactory.Create(new SiloHostOptions());
        var storage = Assert.IsType<InProcessGrainStorage>(
            host.Services.GetRequiredKeyedService<IGrainStorage>(RoutingGrainsServiceCollectionExtensions.SessionStorageName));
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        async Task<(SessionRecord Record, string Bytes)> Stored(string session)
        {
            var state = new GrainState<SessionRecord>();
            await storage.ReadStateAsync("session", grains.GetGrain<ISessionGrain>(session).GetGrainId(), state);
            Assert.True(state.RecordExists, $"{session} is not stored");
            return (state.State!, Encoding.Latin1.GetString(storage.Serializer.Serialize(state.State).ToArray()));
        }

        var run = await PersonalData.RunAsync(new HostApi(host.CreateClient()), async live =>
        {
            // While it waits: the age and attributes are there for routing (one attribute quotes the customer id);
            // the customer itself is there by its pseudonym only.
            var (record, bytes) = await Stored(live);
            Assert.Equal(SessionState.Queued, record.State);
            Assert.Equal(PersonalData.Pseudonym, record.Customer!.Pseudonym);
            Assert.Equal(PersonalData.Age, record.Customer.Age);
            Assert.Equal(PersonalData.AttributeValue, record.Attributes["tier"]);
            Assert.Contains(PersonalData.AttributeValue, bytes, StringComparison.Ordinal);
            var customer = Encoding.Latin1.GetString(storage.Serializer.Serialize(record.Customer).ToArray());
            Assert.DoesNotContain(PersonalData.CustomerDigits, customer, StringComparison.Ordinal);
        });
        await host.Settle();

        foreach (var session in run.Ended)
        {
            var (record, bytes) = await Stored(session);
            Assert.True(record.State.IsTerminal(), $"{session} is {record.State}");
            Assert.Equal(PersonalData.Pseudonym, record.Customer!.Pseudonym);
            Assert.Null(record.Customer.Age);
            Assert.Equal([Segment.Vip], record.Customer.Segments);
            Assert.Empty(record.Attributes);
            PersonalData.AssertNone([bytes, record.Customer.ToString()], $"the stored session {session}");
        }
    }
}
