using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace RoutingCluster.Client;

/// <summary>
/// The JSON of the public contract, as the client reads and writes it: camelCase field names, enum values as
/// kebab-case strings (<c>not-ready</c>, <c>wrap-up</c>, <c>5g</c>), head starts as seconds or <c>"strict"</c>,
/// dictionary keys (skill names, attribute names) exactly as given. Null fields are left out of requests: the
/// API treats an absent field as "use the default" and refuses unknown ones. The metadata of the payloads sent and
/// read most is generated at build time (<see cref="RoutingJsonContext"/>); every other type is served by reflection.
/// </summary>
public static class RoutingJson
{
    /// <summary>Options with the contract's conventions (read-only; copy them to change anything).</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies the contract's conventions to <paramref name="options"/> (for example the SignalR
    /// protocol's payload options), and puts the generated metadata of the hot payloads first in their resolver chain.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DictionaryKeyPolicy = null;
        options.PropertyNameCaseInsensitive = false;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(WireNames.CreateJsonConverter());
        options.Converters.Add(new HeadStartJsonConverter());

        // Options that name no resolver (SignalR's payload options) mean reflection: name it, so that the types the
        // context does not list are still served after it.
        options.TypeInfoResolver ??= new DefaultJsonTypeInfoResolver();
        if (!options.TypeInfoResolverChain.Contains(RoutingJsonContext.Default))
        {
            options.TypeInfoResolverChain.Insert(0, RoutingJsonContext.Default);
        }
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        Configure(options);
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>
/// A head start on the wire: a number of seconds (<c>60</c>) or <c>"strict"</c>. Reading also accepts a number
/// written as a string (<c>"60"</c>), which is how the session snapshot of the event stream records the head
/// start that applied.
/// </summary>
public sealed class HeadStartJsonConverter : JsonConverter<HeadStart>
{
    public const string StrictName = "strict";

    public override HeadStart Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return HeadStart.OfSeconds(reader.GetDouble());
            case JsonTokenType.String when reader.ValueTextEquals(StrictName):
                return HeadStart.Strict;
            case JsonTokenType.String when double.TryParse(reader.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds):
                return HeadStart.OfSeconds(seconds);
            default:
                throw new JsonException($"Expected a number of seconds or \"{StrictName}\".");
        }
    }

    public override void Write(Utf8JsonWriter writer, HeadStart value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
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
