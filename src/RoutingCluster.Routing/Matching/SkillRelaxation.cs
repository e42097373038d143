using RoutingCluster.Routing.Model;

namespace RoutingCluster.Routing.Matching;

/// <summary>Lowers required skill levels as a session waits.</summary>
public static class SkillRelaxation
{
    /// <summary>The index of the last step reached after <paramref name="waitedSeconds"/>, or -1 when none is.</summary>
    public static int StepAt(IReadOnlyList<RelaxationStep> steps, double waitedSeconds)
    {
        var index = -1;
        for (var i = 0; i < steps.Count; i++)
        {
            if (waitedSeconds >= steps[i].AfterSeconds)
            {
                index = i;
            }
        }

        return index;
    }

    /// <summary>The minimum level required of <paramref name="skill"/> at relaxation step <paramref name="step"/>;
    /// 0 or less means the skill is no longer required.</summary>
    public static int MinimumLevel(int required, IReadOnlyList<RelaxationStep> steps, int step) =>
        step < 0 ? required : required - steps[step].LowerBy;

    /// <summary>The next instant at which a session that arrived at <paramref name="arrival"/> reaches a new step, if any.</summary>
    public static DateTimeOffset? NextStepAt(IReadOnlyList<RelaxationStep> steps, DateTimeOffset arrival, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var step in steps)
        {
            var at = arrival + TimeSpan.FromSeconds(step.AfterSeconds);
            if (at > now && (next is null || at < next))
            {
                next = at;
            }
        }

        return next;
    }
}
