using System.Text.Json.Serialization;

namespace RoutingCluster.Client;

/// <summary>
/// The JSON metadata of the payloads a gateway and an agent desktop send most, generated at build time so that they
/// are written (and read) without reflection: the create request and the other session requests, the session events,
/// the agent's actions, and the results of the agent hub's actions.
/// <see cref="RoutingJson.Configure"/> puts it first in the resolver chain, ahead of reflection, which still serves
/// every other type.
/// </summary>
/// <remarks>
/// Metadata only: the contract's conventions (camelCase, kebab-case enums, head starts, nulls left out) come from the
/// options at run time, as they do for reflection, so both write the same bytes. The views the client reads
/// (<see cref="ClientSessionView"/>, <see cref="AgentView"/>, <see cref="OfferNotice"/>) are left to reflection: their
/// properties are init-only with initial values (empty lists and maps for fields a server may leave out), and the
/// generated reader builds such a type through an object initializer that sets a field left out to null instead.
/// </remarks>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(CreateSessionRequest))]
[JsonSerializable(typeof(CallbackRequest))]
[JsonSerializable(typeof(TransferRequest))]
[JsonSerializable(typeof(SessionUpdate))]
[JsonSerializable(typeof(AgentProfile))]
[JsonSerializable(typeof(AgentStateChange))]
[JsonSerializable(typeof(AgentQueuesChange))]
[JsonSerializable(typeof(AgentActionResult))]
[JsonSerializable(typeof(string))]
internal sealed partial class RoutingJsonContext : JsonSerializerContext;
