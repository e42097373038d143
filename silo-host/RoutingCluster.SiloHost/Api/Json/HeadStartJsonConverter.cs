using System.Text.Json;
using System.Text.Json.Serialization;
using RoutingCluster.Routing.Model;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>A head start on the wire: a number of seconds (<c>60</c>) or the string <c>"strict"</c>.</summary>
public sealed class HeadStartJsonConverter : JsonConverter<HeadStart>
{
    public const string StrictName = "strict";

    public override bool HandleNull => true;

    public override HeadStart Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetDouble(out var seconds) => HeadStart.OfSeconds(seconds),
        JsonTokenType.String when reader.ValueTextEquals(StrictName) => HeadStart.Strict,
        _ => throw new WireValueException($"Expected a number of seconds (>= 0) or \"{StrictName}\"."),
    };

    public override void Write(Utf8JsonWriter writer, HeadStart value, JsonSerializerOptions options)
    {
        if (value.IsStrict)
        {
            writer.WriteStringValue(StrictName);
        }
        else
        {
            writer.WriteNumberValue(value.Seconds);
        }
    }
}
