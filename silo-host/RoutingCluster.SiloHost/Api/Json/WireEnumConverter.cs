using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>
/// Enums on the wire: their <see cref="WireNames"/> (<c>not-ready</c>, <c>wrap-up</c>, <c>longest-idle</c>,
/// <c>5g</c>), read strictly: numbers, other spellings
/// and unknown names are refused with a message that lists the allowed values. Also used for dictionary keys
/// (<c>capacity.voice</c>, <c>headStart.elderly</c>).
/// </summary>
public sealed class WireEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(WireEnumConverter<>).MakeGenericType(typeToConvert))!;
}

public sealed class WireEnumConverter<T> : JsonConverter<T>
    where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new WireValueException($"Expected a string, one of: {WireNames<T>.Allowed}.");
        }

        return Parse(reader.GetString());
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WireNames<T>.Of(value));

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Parse(reader.GetString());

    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WritePropertyName(WireNames<T>.Of(value));

    private static T Parse(string? name) =>
        WireNames<T>.TryParse(name, out var value)
            ? value
            : throw new WireValueException($"Not one of: {WireNames<T>.Allowed}.");   // the value itself is never echoed
}
