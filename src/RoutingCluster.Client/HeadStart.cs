using System.Globalization;

namespace RoutingCluster.Client;

/// <summary>
/// A segment's priority in a queue: a number of seconds added to the waiting time of its sessions, or
/// <see cref="Strict"/> (always ahead of every non-strict session). On the wire: <c>60</c> or <c>"strict"</c>.
/// </summary>
public readonly record struct HeadStart(double Seconds, bool IsStrict)
{
    public static HeadStart None { get; } = new(0, false);

    public static HeadStart Strict { get; } = new(0, true);

    public static HeadStart OfSeconds(double seconds) => new(seconds, false);

    public override string ToString() => IsStrict ? "strict" : Seconds.ToString(CultureInfo.InvariantCulture);
}
