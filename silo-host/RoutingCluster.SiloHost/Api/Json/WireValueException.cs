using System.Text.Json;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>A value the contract does not allow (an unknown enum value, a head start that is neither a number
/// nor "strict"). Its message is written for API users and is returned as is; the serializer adds the path.</summary>
public sealed class WireValueException(string message) : JsonException(message);
