using RoutingCluster.Routing.Alerts;

namespace RoutingCluster.Routing.Model;

/// <summary>One step of skill relaxation: once a session has waited <see cref="AfterSeconds"/>, every
/// required level is lowered by <see cref="LowerBy"/> (a level that reaches 0 is no longer required).</summary>
public sealed record RelaxationStep(double AfterSeconds, int LowerBy);

/// <summary>A queue proposes a callback to a customer on the line while the estimated wait is over
/// <see cref="WhenEstimatedWaitOverSeconds"/>.</summary>
public sealed record CallbackOffer(double WhenEstimatedWaitOverSeconds);

/// <summary>The routing-relevant configuration of a queue, with the contract's defaults.</summary>
public sealed record QueuePolicy
{
    public double ServiceLevelSeconds { get; init; } = 20;

    public double OfferTimeoutSeconds { get; init; } = 15;

    public double WrapUpSeconds { get; init; } = 10;

    public int ElderlyAge { get; init; } = 65;

    public IReadOnlyDictionary<Segment, HeadStart> HeadStarts { get; init; } = DefaultHeadStarts;

    public AgentSelection AgentSelection { get; init; } = AgentSelection.LongestIdle;

    /// <summary>Steps ordered by <see cref="RelaxationStep.AfterSeconds"/>.</summary>
    public IReadOnlyList<RelaxationStep> Relaxation { get; init; } = [];

    public int MaxWaiting { get; init; } = 10_000;

    public double MaxWaitSeconds { get; init; } = 900;

    public string? OverflowQueueId { get; init; }

    /// <summary>The bounds the queue's live figures are watched against; null: no alerts.</summary>
    public AlertBounds? Alerts { get; init; }

    /// <summary>When the queue proposes callbacks to customers on the line; null: never.</summary>
    public CallbackOffer? CallbackOffer { get; init; }

    public static IReadOnlyDictionary<Segment, HeadStart> DefaultHeadStarts { get; } = new Dictionary<Segment, HeadStart>
    {
        [Segment.Elderly] = HeadStart.OfSeconds(60),
        [Segment.Disabled] = HeadStart.OfSeconds(60),
        [Segment.Military] = HeadStart.OfSeconds(60),
        [Segment.Vip] = HeadStart.OfSeconds(30),
    };

    public static QueuePolicy Default { get; } = new();
}
