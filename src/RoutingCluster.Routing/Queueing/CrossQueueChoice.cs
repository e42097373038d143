using RoutingCluster.Routing.Matching;
using RoutingCluster.Routing.Ordering;

namespace RoutingCluster.Routing.Queueing;

/// <summary>
/// Session surplus across queues: an agent with room that serves several queues asks each for its best session
/// (<see cref="QueueDispatcher.PeekFor"/>) and takes the one first in service order over all of them.
/// </summary>
public static class CrossQueueChoice
{
    /// <summary>Chooses among the queues' answers. <see cref="CrossQueuePick.Wait"/> when some queue is already
    /// offering this agent a session (it reaches the agent next, so nothing behind it is taken); otherwise the waiting
    /// session with the smallest <see cref="WaitKey"/>, or none.</summary>
    public static CrossQueuePick Choose(IEnumerable<(bool OfferInFlight, SessionDemand? Session)> peeks)
    {
        SessionDemand? best = null;
        foreach (var (inFlight, session) in peeks)
        {
            if (inFlight)
            {
                return CrossQueuePick.WaitForOffer;
            }

            if (session is not null && (best is null || Comparer<WaitKey>.Default.Compare(session.Key, best.Key) < 0))
            {
                best = session;
            }
        }

        return best is null ? CrossQueuePick.None : new CrossQueuePick(false, best);
    }
}

/// <summary>What an agent serving several queues takes next: nothing yet (<see cref="Wait"/>), nothing, or a session.</summary>
public readonly record struct CrossQueuePick(bool Wait, SessionDemand? Session)
{
    public static readonly CrossQueuePick None = new(false, null);

    public static CrossQueuePick WaitForOffer => new(true, null);
}
