using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>
/// Enums on the wire: the kebab-case names of <see cref="JsonStringEnumConverter"/> with
/// <see cref="JsonNamingPolicy.KebabCaseLower"/> (<c>not-ready</c>, <c>wrap-up</c>, <c>longest-idle</c>, and
/// <c>5g</c> through <see cref="JsonStringEnumMemberNameAttribute"/>), read strictly: numbers, other spellings
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
            : throw new WireValueException($"'{name}' is not one of: {WireNames<T>.Allowed}.");
}

/// <summary>The wire name of every value of <typeparamref name="T"/>, as <see cref="JsonStringEnumConverter"/>
/// with the kebab-case policy writes it (so there is one source of truth for the names).</summary>
public static class WireNames<T>
    where T : struct, Enum
{
    private static readonly FrozenDictionary<T, string> Names = Build();
    private static readonly FrozenDictionary<string, T> Values = Names.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    /// <summary>The allowed values, comma-separated, for error messages.</summary>
    public static string Allowed { get; } = string.Join(", ", Enum.GetValues<T>().Select(v => Names[v]));

    public static string Of(T value) => Names.TryGetValue(value, out var name) ? name : value.ToString();

    public static bool TryParse(string? name, out T value)
    {
        if (name is not null && Values.TryGetValue(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    private static FrozenDictionary<T, string> Build()
    {
        var options = new JsonSerializerOptions { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) } };
        return Enum.GetValues<T>().ToFrozenDictionary(v => v, v => JsonSerializer.Deserialize<string>(JsonSerializer.Serialize(v, options))!);
    }
}
