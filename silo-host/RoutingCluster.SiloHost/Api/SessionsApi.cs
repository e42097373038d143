using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.OpenApi;
using RoutingCluster.SiloHost.Api.Validation;
using RoutingCluster.SiloHost.Audit;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.SiloHost.Hosting;

namespace RoutingCluster.SiloHost.Api;

/// <summary><c>/v1/sessions</c>: what gateways (and support) do with customer sessions.</summary>
public static class SessionsApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>How long an agent named as a transfer's target gets the session before anyone else eligible.</summary>
    public static readonly TimeSpan TransferAgentWait = TimeSpan.FromSeconds(30);

    public static RouteGroupBuilder MapSessionsApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<InputValidationFilter>().WithApiConventions("Sessions");
        group.MapPost(string.Empty, CreateSession).WithName(nameof(CreateSession))
            .WithSummary("Create a session (gateway)")
            .WithDescription("201 with the new session. With an Idempotency-Key, a retry with the same body answers 200 "
                + "with the same session; 409 for the same key with another body (type …:idempotency-key-reused) or when "
                + "the queue is full (type …:queue-full, the session exists as refused); 400 naming queueId when the "
                + "queue does not exist; 503 with Retry-After (type …:overloaded) when the cluster is overloaded and takes no "
                + "new session now: nothing was created, retry with the same Idempotency-Key.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
                {
                    if (parameter.Name == IdempotencyKeyHeader)
                    {
                        parameter.Description = $"Optional, 1 to {Limits.MaxIdempotencyKeyLength} printable characters. A retry with the same key and body reaches the same session.";
                    }
                }

                return Task.CompletedTask;
            })
            .RequireAuthorization(AccessPolicies.CreateSessions);
        group.MapGet("/{id}", GetSession).WithName(nameof(GetSession))
            .WithSummary("Get a session: state, queue, agent, timestamps and explanation (its gateway, support, supervisor)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.ReadSessions)
            .AddEndpointFilter(new OwnSessionsOnly(readersSeeAll: true));
        group.MapPost("/{id}/abandon", AbandonSession).WithName(nameof(AbandonSession))
            .WithSummary("The customer left (gateway)")
            .WithDescription("409 unless the session is queued or offered.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AccessPolicies.AbandonSessions)
            .AddEndpointFilter(new OwnSessionsOnly(readersSeeAll: false));
        group.MapPost("/{id}/callback", RequestCallback).WithName(nameof(RequestCallback))
            .WithSummary("The customer leaves the line to be called back (gateway)")
            .WithDescription("{\"at\": null}: at once, keeping the session's place (its arrival and head start). "
                + "{\"at\": time}: the session leaves the waiting list until then and waits from then on as if it "
                + "arrived then, with its head start. A callback is not abandoned for waiting (no max wait); abandon "
                + "cancels it; its offer says kind callback. 400 naming at unless it is in the future and within 7 "
                + "days; 409 unless the session is queued, or when it is a callback already with another at (the same "
                + "request again answers 200).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AccessPolicies.AbandonSessions)
            .AddEndpointFilter(new OwnSessionsOnly(readersSeeAll: false));
        group.MapPost("/{id}/transfer", TransferSession).WithName(nameof(TransferSession))
            .WithSummary("Transfer a connected session to a queue or an agent (the agent holding it, supervisor)")
            .WithDescription("400 when neither queueId nor agentId is given, or the target does not exist or does not "
                + "serve the queue; 403 for an agent that does not hold the session; 409 unless the session is connected.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AccessPolicies.TransferSessions);
        group.MapGet("/{id}/events", SessionEventsApi.FollowSession).WithName("FollowSessionEvents")
            .WithSummary("Follow a session as server-sent events")
            .WithDescription("The first event (\"state\") is the session as it is; then one event per change, named "
                + "after the change; \"keep-alive\" events when nothing happened for 15 s. The stream ends after the "
                + "session's terminal event.")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.ReadSessions)
            .AddEndpointFilter(new OwnSessionsOnly(readersSeeAll: true));
        return group;
    }

    /// <summary>
    /// Creates a session. With an <c>Idempotency-Key</c> the session id is derived from the key, so a retry
    /// reaches the same session grain: the same request answers 200 with that session, another request 409.
    /// </summary>
    public static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> CreateSession(
        JsonBody<CreateSessionRequest> body,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal user,
        RoutingGrains grains,
        SessionAdmission admission,
        CustomerPseudonyms pseudonyms,
        HttpContext http)
    {
        if (idempotencyKey is not null && (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > Limits.MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl)))
        {
            return Problems.Invalid(IdempotencyKeyHeader, $"Must be 1 to {Limits.MaxIdempotencyKeyLength} printable characters.");
        }

        var request = body.Value;
        using var admitted = admission.TryAdmit(admission.IsPriority(request.Customer?.Age, request.Customer?.Segments?.Count ?? 0));
        if (admitted is null)
        {
            return Admission.Overloaded(http, admission.Options.RetryAfterSeconds);
        }

        var gateway = AccessClaims.GatewayOf(user) ?? string.Empty;
        var id = idempotencyKey is null ? SessionOwnership.NewSessionId(gateway) : SessionIdForKey(gateway, idempotencyKey);
        CreateSessionResult result;

        // A new id has no stored record to read: its grain starts empty. An idempotency key's id may have one.
        using (idempotencyKey is null ? FreshGrainKey.Mark(id) : default)
        {
            result = await grains.Session(id).CreateAsync(request.ToNewSession(pseudonyms));
        }

        return result.Status switch
        {
            CreateStatus.Created => TypedResults.Created($"/v1/sessions/{id}", SessionResponse.From(result.Session!)),
            CreateStatus.AlreadyExists => TypedResults.Ok(SessionResponse.From(result.Session!)),
            CreateStatus.QueueNotFound => Problems.Invalid("queueId", result.Detail ?? $"Queue '{request.QueueId}' does not exist."),
            CreateStatus.KeyReused => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                type: Problems.IdempotencyKeyReusedType,
                title: "Idempotency key already used for another request",
                detail: result.Detail),
            _ => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                type: Problems.QueueFullType,
                title: "Queue full",
                detail: $"{result.Detail} The session was refused: retry later or route it elsewhere.",
                extensions: new Dictionary<string, object?> { ["sessionId"] = id, ["queueId"] = result.Session?.QueueId }),
        };
    }

    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetSession(string id, RoutingGrains grains) =>
        await grains.Session(id).GetAsync() is { } view
            ? TypedResults.Ok(SessionResponse.From(view))
            : Problems.NotFound($"Session '{id}' does not exist.");

    /// <summary>The customer left while queued or offered. Answers the session as it is now.</summary>
    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> AbandonSession(string id, RoutingGrains grains)
    {
        var answer = await grains.Session(id).AbandonAsync();
        return answer is { IsOk: true, View: { } view } ? TypedResults.Ok(SessionResponse.From(view)) : Problems.From(answer.Outcome);
    }

    /// <summary>The customer of a queued session leaves the line to be called back, at once or at <c>at</c>. Answers the
    /// session as it is now, with its callback.</summary>
    public static async Task<Results<Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> RequestCallback(
        string id, JsonBody<CallbackRequest> body, RoutingGrains grains, RoutingClock clock)
    {
        var at = body.Value.At;
        if (at is { } scheduled)
        {
            var now = clock.Now;
            if (scheduled <= now)
            {
                return Problems.Invalid("at", "Must be in the future (or null: call back as soon as an agent is free).");
            }

            if (scheduled > now + CallbackRequest.MaxAhead)
            {
                return Problems.Invalid("at", $"Must be within {CallbackRequest.MaxAhead.TotalDays} days.");
            }
        }

        var session = grains.Session(id);
        var outcome = await session.RequestCallbackAsync(at?.ToUniversalTime());
        return outcome.IsOk ? TypedResults.Ok(SessionResponse.From((await session.GetAsync())!)) : Problems.From(outcome);
    }

    /// <summary>
    /// Moves a connected session to another queue or agent. The target queue is <c>queueId</c>, or the
    /// session's current queue; a target agent must exist and serve that queue, and gets the session first for
    /// <see cref="TransferAgentWait"/>.
    /// </summary>
    public static async Task<Results<Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> TransferSession(
        string id, JsonBody<TransferRequest> body, ClaimsPrincipal user, RoutingGrains grains, AuditTrail audit, HttpContext http)
    {
        var request = body.Value;
        var session = grains.Session(id);
        if (await session.GetAsync() is not { } current)
        {
            return Problems.NotFound($"Session '{id}' does not exist.");
        }

        if (!user.IsInRole(Roles.Supervisor) && AccessClaims.AgentIdOf(user) is var agentOfToken && agentOfToken != current.AgentId)
        {
            var detail = $"acts for agent {agentOfToken}, which does not hold session '{id}'";
            audit.Record(http, user, AuditActions.AccessRefused, id, AuditOutcomes.Refused, detail: $"POST /v1/sessions/{{id}}/transfer: {detail}");
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);
        }

        var targetQueue = request.QueueId ?? current.QueueId;
        if (request.QueueId is not null && await grains.Queue(request.QueueId).GetAsync() is null)
        {
            return Problems.Invalid("queueId", $"Queue '{request.QueueId}' does not exist.");
        }

        if (request.AgentId is { } agentId)
        {
            var agent = await grains.Agent(agentId).GetAsync();
            if (agent is null)
            {
                return Problems.Invalid("agentId", $"Agent '{agentId}' does not exist.");
            }

            if (!agent.Queues.Contains(targetQueue))
            {
                return Problems.Invalid("agentId", $"Agent '{agentId}' does not serve queue '{targetQueue}'.");
            }

            if (agentId == current.AgentId)
            {
                return Problems.Invalid("agentId", $"Session '{id}' is already with agent '{agentId}'.");
            }
        }

        var wait = request.AgentId is null ? 0 : TransferAgentWait.TotalSeconds;
        var answer = await session.TransferAsync(targetQueue, request.AgentId, wait);
        audit.Record(http, user, AuditActions.SessionTransferred, id, AuditTrail.OutcomeOf(answer.Outcome),
            detail: answer.Outcome.Detail, after: new TransferTarget(targetQueue, request.AgentId));
        return answer is { IsOk: true, View: { } view } ? TypedResults.Ok(SessionResponse.From(view)) : Problems.From(answer.Outcome);
    }

    /// <summary>The session id for <paramref name="gateway"/>'s idempotency key (<see cref="SessionOwnership"/>):
    /// keys are per gateway.</summary>
    public static string SessionIdForKey(string gateway, string key) => SessionOwnership.SessionIdForKey(gateway, key);
}
