namespace RoutingCluster.Routing.Model;

/// <summary>
/// Seconds added to a waiting session's score, or <see cref="Strict"/>: always ahead of every
/// non-strict session.
/// </summary>
public readonly record struct HeadStart(double Seconds, bool IsStrict)
{
    public static HeadStart None { get; } = new(0, false);

    public static HeadStart Strict { get; } = new(0, true);

    public static HeadStart OfSeconds(double seconds) => new(seconds, false);

    /// <summary>The larger of two head starts: strict beats any number of seconds.</summary>
    public static HeadStart Max(HeadStart a, HeadStart b) =>
        a.IsStrict ? a : b.IsStrict ? b : a.Seconds >= b.Seconds ? a : b;

    public override string ToString() => IsStrict ? "strict" : Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
