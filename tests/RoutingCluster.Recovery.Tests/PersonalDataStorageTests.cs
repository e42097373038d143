using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.Routing.Model;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>
/// On PostgreSQL, a session's row keeps the customer by its keyed pseudonym only, and its age and attributes until the
/// session ends: after a full lifecycle and malformed requests carrying recognisable personal data, logged at the most
/// verbose level from every source, no ended row holds any of it (columns or payload), nor does any log event or answer.
/// </summary>
public sealed class PersonalDataStorageTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    [Fact]
    public async Task EndedSessions_KeepOnlyThePseudonym_InTheirRows_AndNothingPersonalIsLoggedOrAnswered()
    {
        var settings = HostSettings.For(await postgres.CreateSchemaAsync("privacy"));
        var recorder = new LogRecorder();
        await using var host = SiloHostFactory.Create(PersonalData.Verbose(settings.Options(), recorder));
        var api = new HostApi(host.CreateClient());
        var serializer = new OrleansGrainStorageSerializer(host.Services.GetRequiredService<Serializer>());

        var run = await PersonalData.RunAsync(api, async live =>
        {
            // While it waits, the row's payload holds the age and attributes (routing needs the age); the customer is
            // there by its pseudonym only, in the payload and in a column.
            var row = await RowAsync(settings.ConnectionString, live);
            var record = serializer.Deserialize<SessionRecord>(new BinaryData(row.Payload))!;
            Assert.Equal(PersonalData.Pseudonym, row.Pseudonym);
            Assert.Equal(PersonalData.Pseudonym, record.Customer!.Pseudonym);
            Assert.Equal(PersonalData.Age, record.Customer.Age);
            Assert.Contains(PersonalData.AttributeValue, Text(row.Payload), StringComparison.Ordinal);
            Assert.DoesNotContain(PersonalData.CustomerDigits, Text(serializer.Serialize(record.Customer).ToArray()), StringComparison.Ordinal);
            PersonalData.AssertNone([row.Columns], $"the columns of {live}");
        });
        await host.Settle();

        foreach (var session in run.Ended)
        {
            var row = await RowAsync(settings.ConnectionString, session);
            var record = serializer.Deserialize<SessionRecord>(new BinaryData(row.Payload))!;
            Assert.True(record.State.IsTerminal(), $"{session} is {record.State}");
            Assert.Equal(PersonalData.Pseudonym, row.Pseudonym);
            Assert.Equal(PersonalData.Pseudonym, record.Customer!.Pseudonym);
            Assert.Null(record.Customer.Age);
            Assert.Empty(record.Attributes);
            PersonalData.AssertNone([row.Columns, Text(row.Payload)], $"the row of {session}");
        }

        Assert.True(recorder.HasVerboseFrom("Orleans."), "no Trace event from Orleans.*");
        Assert.True(recorder.HasVerboseFrom("Microsoft.AspNetCore."), "no Trace event from Microsoft.AspNetCore.*");
        PersonalData.AssertNone(recorder.Lines, "the host's logs");
        PersonalData.AssertNone(run.Answers, "the answers");
        Assert.Empty(host.Failures);
        output.WriteLine($"searched {recorder.Lines.Count} log events, {run.Answers.Count} answers and {run.Ended.Count()} ended rows");
    }

    /// <summary>The bytes as text, one character per byte: the strings a binary payload holds show as they are.</summary>
    private static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static async Task<(string? Pseudonym, byte[] Payload, string Columns)> RowAsync(string connectionString, string id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT customer_pseudonym, payload, (to_jsonb(s) - 'payload')::text FROM routing_session s WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no routing_session row {id}");
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetFieldValue<byte[]>(1), reader.GetString(2));
    }
}
