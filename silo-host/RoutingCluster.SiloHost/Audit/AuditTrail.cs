using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Grains.Infrastructure;
using RoutingCluster.Grains.Metrics;
using RoutingCluster.SiloHost.Access;

namespace RoutingCluster.SiloHost.Audit;

/// <summary>
/// What the edges record in the audit log (<see cref="IAuditLog"/>), with who, from where, when and the trace id
/// taken from the request. A configuration change is written first and awaited: when its record cannot be written
/// the change is refused (<see cref="ConfigurationChangeAsync"/>). Everything else is recorded on the side
/// (<see cref="Record"/>): the action goes ahead whatever the log does, and a record that could not be written is
/// counted and logged, never silently dropped.
/// </summary>
public sealed class AuditTrail
{
    private readonly IAuditLog _log;
    private readonly RoutingClock _clock;
    private readonly JsonSerializerOptions _json;
    private readonly ILogger<AuditTrail> _logger;
    private readonly Counter<long> _records;
    private readonly int _maxPending;
    private int _pending;

    public AuditTrail(IAuditLog log, RoutingClock clock, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        IOptions<AuditOptions> options, IMeterFactory meters, ILogger<AuditTrail> logger)
    {
        _log = log;
        _clock = clock;
        _json = json.Value.SerializerOptions;
        _logger = logger;
        _maxPending = Math.Max(1, options.Value.MaxPendingRecords);
        _records = meters.Create(RoutingMetrics.MeterName).CreateCounter<long>(
            "routing.audit.records", "{record}", "Audit records by result: written, or lost (the log could not take them).");
    }

    /// <summary>
    /// Writes the record of a configuration change (<paramref name="before"/> and <paramref name="after"/> as the API
    /// answers them) before the change is made: null when it is written, or the 503 to answer instead, having changed
    /// nothing.
    /// </summary>
    public async Task<ProblemHttpResult?> ConfigurationChangeAsync(HttpContext http, string action, string targetId, object? before, object after)
    {
        var record = Create(http, http.User, action, targetId, AuditOutcomes.Succeeded) with { Before = Json(before), After = Json(after) };
        try
        {
            await _log.AppendAsync(record, http.RequestAborted);
            _records.Add(1, new KeyValuePair<string, object?>("result", "written"));
            return null;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            _records.Add(1, new KeyValuePair<string, object?>("result", "lost"));
            AccessLog.ConfigurationRefusedWithoutAudit(_logger, exception, action, targetId);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit log unavailable",
                detail: "The change was not made: its audit record could not be written. Try again when the audit log is back.");
        }
    }

    /// <summary>Records an action on the side (see the class summary).</summary>
    public void Record(HttpContext? http, ClaimsPrincipal? user, string action, string? targetId, string outcome,
        bool forced = false, string? detail = null, object? after = null)
    {
        var record = Create(http, user, action, targetId, outcome) with { Forced = forced, Detail = detail, After = Json(after) };
        if (Interlocked.Increment(ref _pending) > _maxPending)
        {
            Interlocked.Decrement(ref _pending);
            Lost(record, null);
            return;
        }

        _ = AppendAsync(record);
    }

    private async Task AppendAsync(AuditRecord record)
    {
        try
        {
            await _log.AppendAsync(record);
            _records.Add(1, new KeyValuePair<string, object?>("result", "written"));
        }
        catch (Exception exception)
        {
            Lost(record, exception);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    private void Lost(AuditRecord record, Exception? exception)
    {
        _records.Add(1, new KeyValuePair<string, object?>("result", "lost"));
        AccessLog.AuditRecordLost(_logger, exception, record.Action, record.TargetId, record.Actor.Subject);
    }

    /// <summary>The audit outcome of an action's outcome: succeeded, or rejected (404, 409).</summary>
    public static string OutcomeOf(RoutingCluster.Abstractions.Common.Outcome outcome) =>
        outcome.Code == RoutingCluster.Abstractions.Common.OutcomeCode.Ok ? AuditOutcomes.Succeeded : AuditOutcomes.Rejected;

    private AuditRecord Create(HttpContext? http, ClaimsPrincipal? user, string action, string? targetId, string outcome) => new(
        0,
        _clock.Now,
        ActorOf(user),
        http?.Connection.RemoteIpAddress?.ToString(),
        action,
        targetId,
        outcome,
        TraceId: Activity.Current?.TraceId.ToHexString() ?? http?.TraceIdentifier);

    /// <summary>The caller as the audit log names it; an unauthenticated caller is <see cref="AuditActor.Anonymous"/>.</summary>
    public static AuditActor ActorOf(ClaimsPrincipal? user) => user?.Identity?.IsAuthenticated == true
        ? new AuditActor(
            AccessClaims.SubjectOf(user),
            [.. user.FindAll(AccessClaims.Roles).Select(c => c.Value)],
            user.FindFirst(AccessClaims.ClientId)?.Value,
            AccessClaims.AgentIdOf(user))
        : AuditActor.Anonymous;

    private string? Json(object? value) => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), _json);
}

/// <summary>The audit log's settings (section <c>Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>How many records the embedded profile's log keeps in memory (the newest; default 10,000).</summary>
    public int MemoryCapacity { get; set; } = 10_000;

    /// <summary>How many records recorded on the side may wait for the log at once; beyond, a record is counted lost
    /// (a flood of refused requests while the database is slow must not fill the silo's memory). Default 10,000.</summary>
    public int MaxPendingRecords { get; set; } = 10_000;
}
