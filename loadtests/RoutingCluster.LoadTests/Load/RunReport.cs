using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoutingCluster.LoadTests.Load;

/// <summary>What every report of the driver starts with (run, time, command, machine, settings), and its JSON form.</summary>
internal abstract record RunReport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public required string RunId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required string CommandLine { get; init; }

    public required string Machine { get; init; }

    public required IReadOnlyDictionary<string, string> Settings { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, GetType(), Json);
}
