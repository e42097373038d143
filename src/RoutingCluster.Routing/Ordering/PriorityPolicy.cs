using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Ordering;

/// <summary>Who is served first: segments, head starts and scores. This is where elderly priority is decided.</summary>
public static class PriorityPolicy
{
    /// <summary>The segments a session carries: those the gateway set, plus <c>elderly</c> when the customer's
    /// age is at least the queue's elderly age.</summary>
    public static IReadOnlyList<Segment> DeriveSegments(IEnumerable<Segment> declared, int? age, int elderlyAge)
    {
        var set = new SortedSet<Segment>(declared);
        if (age is { } a && a >= elderlyAge)
        {
            set.Add(Segment.Elderly);
        }

        return [.. set];
    }

    /// <summary>The head start of a session: the largest of its segments' head starts (strict beats any number).</summary>
    public static HeadStart HeadStartFor(IEnumerable<Segment> segments, IReadOnlyDictionary<Segment, HeadStart> config)
    {
        var result = HeadStart.None;
        foreach (var segment in segments)
        {
            if (config.TryGetValue(segment, out var h))
            {
                result = HeadStart.Max(result, h);
            }
        }

        return result;
    }

    /// <summary>Score = seconds waited + head start. Strict sessions are ordered above every score by
    /// <see cref="WaitKey"/>; their score here is their waited time plus nothing.</summary>
    public static double Score(DateTimeOffset arrival, HeadStart headStart, DateTimeOffset now) =>
        (now - arrival).TotalSeconds + headStart.Seconds;
}
