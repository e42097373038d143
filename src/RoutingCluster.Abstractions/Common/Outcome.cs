namespace RoutingCluster.Abstractions.Common;

public enum OutcomeCode
{
    Ok,
    NotFound,
    Conflict,
}

/// <summary>The answer to a user action: done, unknown id, or not allowed in the current state (with why).</summary>
[GenerateSerializer, Immutable, Alias("rc.outcome")]
public sealed record Outcome([property: Id(0)] OutcomeCode Code, [property: Id(1)] string? Detail = null)
{
    public static Outcome Ok { get; } = new(OutcomeCode.Ok);

    public static Outcome NotFound(string detail) => new(OutcomeCode.NotFound, detail);

    public static Outcome Conflict(string detail) => new(OutcomeCode.Conflict, detail);

    public bool IsOk => Code == OutcomeCode.Ok;
}
