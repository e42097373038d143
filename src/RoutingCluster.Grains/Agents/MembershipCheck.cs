namespace RoutingCluster.Grains.Agents;

/// <summary>
/// Which of an agent's queues have not stored their membership of it yet, and when to tell them again. A queue
/// acknowledges a join before it writes it; one that answers that its stored membership does not agree (or does not
/// answer) is told again after <see cref="AgentOptions.MembershipCheckDelay"/>, until it agrees: a join that a queue
/// acknowledged and then lost in a crash before writing it is made again, even by an agent that stays idle.
/// </summary>
internal sealed class MembershipCheck(TimeSpan delay)
{
    private readonly HashSet<string> _unconfirmed = new(StringComparer.Ordinal);

    /// <summary>When the unconfirmed queues are to be told again (null: all agree).</summary>
    public DateTimeOffset? DueAt { get; private set; }

    /// <summary>A new activation does not know whether its queues stored it (the last one may have died before hearing
    /// back): it checks with each of them shortly.</summary>
    public void CheckAll(IEnumerable<string> queues, DateTimeOffset now)
    {
        _unconfirmed.UnionWith(queues);
        DueAt = _unconfirmed.Count > 0 ? now + delay : null;
    }

    /// <summary>What the queues answered (<paramref name="stored"/> null: not all of them answered).</summary>
    public void Answered(IReadOnlyList<string> queues, bool[]? stored, DateTimeOffset now)
    {
        for (var i = 0; i < queues.Count; i++)
        {
            if (stored?[i] == true)
            {
                _unconfirmed.Remove(queues[i]);
            }
            else
            {
                _unconfirmed.Add(queues[i]);
            }
        }

        DueAt = _unconfirmed.Count == 0 ? null : DueAt ?? now + delay;
    }

    /// <summary>The queues to tell again when the check is due (empty otherwise); the check is then no longer due.</summary>
    public IReadOnlyList<string> TakeDue(DateTimeOffset now)
    {
        if (!(DueAt <= now))
        {
            return [];
        }

        DueAt = null;
        return [.. _unconfirmed];
    }
}
