using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>The JSON of the public contract: camelCase fields, enum values as their <see cref="WireNames"/>, head starts as seconds
/// or "strict". Dictionary keys (skill names, attribute names) are kept exactly as given. The hot payloads' metadata is
/// generated at build time (<see cref="WireJsonContext"/>); every other type is served by reflection, as before.</summary>
public static class WireJson
{
    /// <summary>Options for reading request bodies: the contract's names, and strict about types (a number
    /// must be a JSON number, not a string holding one; no NaN or Infinity; no duplicate fields).</summary>
    public static JsonSerializerOptions Requests { get; } = CreateRequestOptions();

    /// <summary>Applies the contract's conventions to the options used for responses (and the agent hub's payloads), and
    /// puts the generated metadata of the hot payloads first in their resolver chain.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new WireEnumConverterFactory());
        options.Converters.Add(new HeadStartJsonConverter());

        // Options that name no resolver (SignalR's payload options) mean reflection: name it, so that the types the
        // context does not list are still served after it.
        options.TypeInfoResolver ??= new DefaultJsonTypeInfoResolver();
        if (!options.TypeInfoResolverChain.Contains(WireJsonContext.Default))
        {
            options.TypeInfoResolverChain.Insert(0, WireJsonContext.Default);
        }
    }

    private static JsonSerializerOptions CreateRequestOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNameCaseInsensitive = false,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
            AllowDuplicateProperties = false,
            MaxDepth = 16,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        Configure(options);
        options.MakeReadOnly();
        return options;
    }
}
