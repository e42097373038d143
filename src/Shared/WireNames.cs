using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoutingCluster;

/// <summary>
/// The wire names of enum values, the one definition the HTTP API, the agent hub, the event streams, the metrics, the
/// session records and the client all use: kebab-case as <see cref="JsonStringEnumConverter"/> with
/// <see cref="JsonNamingPolicy.KebabCaseLower"/> writes them (<c>not-ready</c>, <c>wrap-up</c>, <c>longest-idle</c>), or the
/// name a <see cref="JsonStringEnumMemberNameAttribute"/> gives (<c>5g</c>).
/// </summary>
/// <remarks>
/// A shared source file (src/Shared), compiled into each project that needs it: the client package references nothing
/// of the cluster, and the cluster's projects nothing of the client, so no one project could hold it for both.
/// </remarks>
internal static class WireNames
{
    private static readonly JsonSerializerOptions NamingOptions = new() { Converters = { CreateJsonConverter() } };

    /// <summary>A JSON converter for every enum that writes the wire names, and reads them (and, like any
    /// <see cref="JsonStringEnumConverter"/>, the same names in another casing), never numbers.</summary>
    public static JsonStringEnumConverter CreateJsonConverter() => new(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);

    /// <summary>The wire names of the values of <paramref name="enumType"/>, in declaration order.</summary>
    public static IEnumerable<string> Of(Type enumType) =>
        Enum.GetValues(enumType).Cast<object>().Select(value => NameOf(value, enumType));

    internal static string NameOf(object value, Type enumType) =>
        JsonSerializer.Deserialize<string>(JsonSerializer.Serialize(value, enumType, NamingOptions))!;
}

/// <summary>The wire name of every value of <typeparamref name="T"/> (see <see cref="WireNames"/>), both ways.</summary>
internal static class WireNames<T>
    where T : struct, Enum
{
    private static readonly FrozenDictionary<T, string> Names =
        Enum.GetValues<T>().ToFrozenDictionary(v => v, v => WireNames.NameOf(v, typeof(T)));

    private static readonly FrozenDictionary<string, T> Values =
        Names.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    /// <summary>The allowed values, comma-separated, for error messages.</summary>
    public static string Allowed { get; } = string.Join(", ", Enum.GetValues<T>().Select(v => Names[v]));

    /// <summary>The wire name of <paramref name="value"/>; a value the enum does not define as its number.</summary>
    public static string Of(T value) => Names.TryGetValue(value, out var name) ? name : value.ToString();

    /// <summary>The value whose wire name is exactly <paramref name="name"/> (no other casing, no number).</summary>
    public static bool TryParse(string? name, out T value)
    {
        if (name is not null && Values.TryGetValue(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }
}
