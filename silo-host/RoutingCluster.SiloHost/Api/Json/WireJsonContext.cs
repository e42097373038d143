using System.Text.Json.Serialization;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Events;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Hubs;

namespace RoutingCluster.SiloHost.Api.Json;

/// <summary>
/// The JSON metadata of the payloads on the hot path, generated at build time so that they are read and written
/// without reflection: the create request and the session view (<c>POST /v1/sessions</c>, <c>GET /v1/sessions/{id}</c>),
/// a followed session's events, the agent's actions and the agent view, and every message of the agent desktop hub (the offer push, the agent view,
/// the actions' results, the string arguments). <see cref="WireJson.Configure"/> puts it first in the resolver chain,
/// ahead of reflection, which still serves every other type.
/// </summary>
/// <remarks>
/// Metadata only: the contract's conventions (camelCase, the enums' wire names, head starts, strict numbers) come from
/// the options at run time, as they do for reflection, so both write the same bytes. The serializer's fast path, which
/// would bake the conventions in, does not apply to options with converters. A type read here must have settable
/// properties: the generated reader builds a type with init-only properties through an object initializer, which sets
/// a field left out to null (not to the property's initial value) and cannot take extension data. The agent view and
/// the offer (init-only, with initial values) are only written by the host.
/// </remarks>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(CreateSessionRequest))]
[JsonSerializable(typeof(CallbackRequest))]
[JsonSerializable(typeof(TransferRequest))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(Api.SessionEventResponse), TypeInfoPropertyName = "SessionStreamEvent")]
[JsonSerializable(typeof(PutAgentRequest))]
[JsonSerializable(typeof(SetAgentStateRequest))]
[JsonSerializable(typeof(MoveAgentRequest))]
[JsonSerializable(typeof(AgentResponse))]
[JsonSerializable(typeof(AgentView))]
[JsonSerializable(typeof(OfferNotice))]
[JsonSerializable(typeof(HubResult))]
[JsonSerializable(typeof(string))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
