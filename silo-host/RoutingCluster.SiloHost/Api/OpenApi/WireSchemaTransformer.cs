using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api.OpenApi;

/// <summary>
/// Makes the generated schemas say what the wire really carries where the generator cannot see it through the
/// API's own converters: enums as their <see cref="WireNames"/> (<c>not-ready</c>, <c>5g</c>), a head start as a
/// number of seconds or <c>"strict"</c>, enum-keyed maps (<c>capacity</c>, <c>headStart</c>) with their keys
/// listed, and request bodies that refuse unknown fields and name their required fields.
/// </summary>
internal sealed class WireSchemaTransformer : IOpenApiSchemaTransformer
{
    /// <summary>The fields a request body must have (checked by its <see cref="IRequestBody.Validate"/>).</summary>
    private static readonly FrozenDictionary<Type, string[]> RequiredFields = new Dictionary<Type, string[]>
    {
        [typeof(CreateSessionRequest)] = ["queueId", "channel", "customer"],
        [typeof(CustomerRequest)] = ["id"],
        [typeof(SetAgentStateRequest)] = ["state"],
        [typeof(RelaxationStepRequest)] = ["afterSeconds", "lowerBy"],
        [typeof(CallbackOfferRequest)] = ["whenEstimatedWaitOverSeconds"],
    }.ToFrozenDictionary();

    /// <summary>The types read from request bodies: unknown fields are refused there, not ignored.</summary>
    private static readonly FrozenSet<Type> RequestTypes = new[]
    {
        typeof(CreateSessionRequest), typeof(CustomerRequest), typeof(TransferRequest), typeof(PutAgentRequest),
        typeof(SetAgentStateRequest), typeof(QueueRequest), typeof(RelaxationStepRequest), typeof(AlertsRequest),
        typeof(CallbackRequest), typeof(CallbackOfferRequest),
    }.ToFrozenSet();

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type.IsEnum)
        {
            Describe(schema, type);
        }
        else if (type == typeof(HeadStart))
        {
            DescribeHeadStart(schema);
        }
        else if (EnumKeyedMap(type) is var (keyType, valueType))
        {
            schema.Properties = WireNames.Of(keyType).ToDictionary(name => name, IOpenApiSchema (_) => ValueSchema(valueType), StringComparer.Ordinal);
            schema.AdditionalProperties = null;
            schema.AdditionalPropertiesAllowed = false;
        }
        else if (EnumItems(type) is { } itemType && schema.Items is null)
        {
            var items = new OpenApiSchema();
            Describe(items, itemType);
            schema.Items = items;
        }

        if (RequestTypes.Contains(type))
        {
            schema.AdditionalPropertiesAllowed = false;
            if (RequiredFields.TryGetValue(type, out var required))
            {
                schema.Required = new HashSet<string>(required, StringComparer.Ordinal);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A required field may not be null either: drops the generator's "or null" from the request bodies'
    /// required fields. Runs on the finished document, where the generator has settled nullability.
    /// </summary>
    public static Task RequiredFieldsAreNotNull(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var (type, required) in RequiredFields)
        {
            if (document.Components?.Schemas?.TryGetValue(type.Name, out var found) == true && found is OpenApiSchema schema)
            {
                foreach (var name in required)
                {
                    NotNull(schema, name);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static void NotNull(OpenApiSchema schema, string name)
    {
        if (schema.Properties?.TryGetValue(name, out var property) != true || property is not OpenApiSchema field)
        {
            return;
        }

        if (field.Type is { } fieldType)
        {
            field.Type = fieldType & ~JsonSchemaType.Null;
        }

        if (field.OneOf is { Count: 2 } oneOf && oneOf.FirstOrDefault(s => s is not OpenApiSchema { Type: JsonSchemaType.Null }) is { } notNull
            && oneOf.Count(s => s is OpenApiSchema { Type: JsonSchemaType.Null }) == 1)
        {
            schema.Properties[name] = notNull;
        }
    }

    private static void Describe(OpenApiSchema schema, Type enumType)
    {
        schema.Type = JsonSchemaType.String;
        schema.Format = null;
        schema.Pattern = null;
        schema.Enum = [.. WireNames.Of(enumType).Select(name => (JsonNode)JsonValue.Create(name))];
    }

    private static void DescribeHeadStart(OpenApiSchema schema)
    {
        schema.Type = null;
        schema.Description = "A head start in seconds, or \"strict\" (always ahead of every non-strict session).";
        schema.OneOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = Limits.MaxSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create(HeadStartJsonConverter.StrictName)] },
        ];
    }

    private static OpenApiSchema ValueSchema(Type valueType)
    {
        var schema = new OpenApiSchema();
        if (valueType == typeof(HeadStart))
        {
            DescribeHeadStart(schema);
        }
        else if (valueType == typeof(int))
        {
            schema.Type = JsonSchemaType.Integer;
            schema.Format = "int32";
        }

        return schema;
    }

    /// <summary>The key and value types of a dictionary keyed by an enum (<c>capacity</c>, <c>headStart</c>).</summary>
    private static (Type Key, Type Value)? EnumKeyedMap(Type type)
    {
        var map = type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Dictionary<,>) || d == typeof(IReadOnlyDictionary<,>) || d == typeof(IDictionary<,>))
            ? type.GetGenericArguments()
            : null;
        return map is [var key, var value] && key.IsEnum ? (key, value) : null;
    }

    /// <summary>The item type of a list of enum values (<c>segments</c>).</summary>
    private static Type? EnumItems(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var item] && item.IsEnum && typeof(IEnumerable<>).MakeGenericType(item).IsAssignableFrom(type)
            ? item
            : null;
}
