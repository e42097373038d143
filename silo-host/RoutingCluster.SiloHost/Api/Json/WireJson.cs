using System.Text.Json;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>The JSON of the public contract: camelCase fields, enum values as their <see cref="WireNames"/>, head starts as seconds
/// or "strict". Dictionary keys (skill names, attribute names) are kept exactly as given.</summary>
public static class WireJson
{
    /// <summary>Options for reading request bodies: the contract's names, and strict about types (a number
    /// must be a JSON number, not a string holding one; no NaN or Infinity; no duplicate fields).</summary>
    public static JsonSerializerOptions Requests { get; } = CreateRequestOptions();

    /// <summary>Applies the contract's conventions to the options used for responses.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new WireEnumConverterFactory());
        options.Converters.Add(new HeadStartJsonConverter());
    }

    private static JsonSerializerOptions CreateRequestOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNameCaseInsensitive = false,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
            AllowDuplicateProperties = false,
            MaxDepth = 16,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };
        Configure(options);
        options.MakeReadOnly();
        return options;
    }
}
