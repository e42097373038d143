namespace RoutingCluster.Abstractions.Common;

/// <summary>
/// The answer to a user action together with the view the grain computed after it: the caller needs no second call
/// to show the result. <see cref="View"/> is set when the action was done (and may be set when it was refused).
/// </summary>
[GenerateSerializer, Immutable, Alias("rc.answer`1")]
public sealed record Answer<TView>([property: Id(0)] Outcome Outcome, [property: Id(1)] TView? View = null)
    where TView : class
{
    public OutcomeCode Code => Outcome.Code;

    public string? Detail => Outcome.Detail;

    public bool IsOk => Outcome.IsOk;

    /// <summary>A refusal (or a done action whose view the caller does not need).</summary>
    public static implicit operator Answer<TView>(Outcome outcome) => new(outcome);
}
