using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Ordering;

/// <summary>
/// The order of waiting sessions, fixed at arrival. A session's score, seconds waited + head start,
/// grows at the same rate for every waiting session, so ordering by score descending is ordering by
/// <c>arrival − head start</c> ascending: the key never changes while the session waits, and a sorted
/// structure keeps the queue in order without recomputing anything as time passes. Strict sessions come
/// before all others. Ties go to the earliest arrival, then to the order the queue received them.
/// </summary>
public readonly record struct WaitKey(bool Strict, long EffectiveArrivalTicks, long ArrivalTicks, long Sequence)
    : IComparable<WaitKey>
{
    public static WaitKey For(DateTimeOffset arrival, HeadStart headStart, long sequence) => new(
        headStart.IsStrict,
        headStart.IsStrict ? arrival.UtcTicks : arrival.UtcTicks - TimeSpan.FromSeconds(headStart.Seconds).Ticks,
        arrival.UtcTicks,
        sequence);

    /// <summary>Negative when this session is served before <paramref name="other"/>.</summary>
    public int CompareTo(WaitKey other)
    {
        if (Strict != other.Strict)
        {
            return Strict ? -1 : 1;
        }

        var c = EffectiveArrivalTicks.CompareTo(other.EffectiveArrivalTicks);
        if (c != 0)
        {
            return c;
        }

        c = ArrivalTicks.CompareTo(other.ArrivalTicks);
        return c != 0 ? c : Sequence.CompareTo(other.Sequence);
    }

    /// <summary>True when this session is served before <paramref name="other"/>.</summary>
    public bool IsAheadOf(WaitKey other) => CompareTo(other) < 0;

    public static bool operator <(WaitKey left, WaitKey right) => left.CompareTo(right) < 0;

    public static bool operator >(WaitKey left, WaitKey right) => left.CompareTo(right) > 0;

    public static bool operator <=(WaitKey left, WaitKey right) => left.CompareTo(right) <= 0;

    public static bool operator >=(WaitKey left, WaitKey right) => left.CompareTo(right) >= 0;
}
