namespace RoutingCluster.Routing.Alerts;

/// <summary>What an alert is about.</summary>
public enum AlertKind
{
    /// <summary>The longest-waiting session has waited more than <see cref="AlertBounds.LongestWaitSeconds"/>.</summary>
    LongestWait,

    /// <summary>The longest-waiting elderly session has waited more than <see cref="AlertBounds.ElderlyLongestWaitSeconds"/>.</summary>
    ElderlyLongestWait,

    /// <summary>Today's service level is below <see cref="AlertBounds.ServiceLevelBelow"/>.</summary>
    ServiceLevel,

    /// <summary>More than <see cref="AlertBounds.WaitingAbove"/> sessions wait.</summary>
    Waiting,
}

/// <summary>A queue's alert bounds; a null bound is off.</summary>
public sealed record AlertBounds
{
    public double? LongestWaitSeconds { get; init; }

    public double? ElderlyLongestWaitSeconds { get; init; }

    /// <summary>A fraction in [0, 1].</summary>
    public double? ServiceLevelBelow { get; init; }

    public int? WaitingAbove { get; init; }

    public bool IsEmpty => LongestWaitSeconds is null && ElderlyLongestWaitSeconds is null && ServiceLevelBelow is null && WaitingAbove is null;

    /// <summary>The bound of <paramref name="kind"/>, or null when it is off.</summary>
    public double? Of(AlertKind kind) => kind switch
    {
        AlertKind.LongestWait => LongestWaitSeconds,
        AlertKind.ElderlyLongestWait => ElderlyLongestWaitSeconds,
        AlertKind.ServiceLevel => ServiceLevelBelow,
        AlertKind.Waiting => WaitingAbove,
        _ => null,
    };

    /// <summary>Whether <paramref name="value"/> is out of the bound <paramref name="threshold"/> of <paramref name="kind"/>:
    /// below it for the service level, above it for the others.</summary>
    public static bool Breaks(AlertKind kind, double value, double threshold) =>
        kind == AlertKind.ServiceLevel ? value < threshold : value > threshold;
}

/// <summary>A queue's figures, read from the live statistics, that alerts are checked against.</summary>
/// <param name="ServiceLevel">Today's service level; null before any session was offered (no alert then).</param>
public sealed record AlertFigures(int Waiting, double LongestWaitSeconds, double ElderlyLongestWaitSeconds, double? ServiceLevel)
{
    public double? Of(AlertKind kind) => kind switch
    {
        AlertKind.LongestWait => LongestWaitSeconds,
        AlertKind.ElderlyLongestWait => ElderlyLongestWaitSeconds,
        AlertKind.ServiceLevel => ServiceLevel,
        AlertKind.Waiting => Waiting,
        _ => null,
    };
}

/// <summary>An active alert: since when the queue has been out of the bound, and the latest value.</summary>
public sealed record ActiveAlert(string QueueId, AlertKind Kind, double Value, double Threshold, DateTimeOffset Since);

/// <summary>An alert raised or cleared by a check.</summary>
public sealed record AlertChange(ActiveAlert Alert, bool Raised);
