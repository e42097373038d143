namespace RoutingCluster.Client;

/// <summary>
/// <c>PUT /v1/queues/{id}</c>: a queue's configuration. Every field is optional; the server fills in its
/// defaults (service level 20 s, offer timeout 15 s, wrap-up 10 s, elderly age 65, head starts elderly 60,
/// disabled 60, military 60, vip 30, longest-idle, max waiting 10,000, max wait 900 s). The configuration is
/// replaced as a whole; a head start given for some segments keeps the defaults for the others.
/// </summary>
public sealed record QueueSettings
{
    public string? Name { get; init; }

    public double? ServiceLevelSeconds { get; init; }

    public double? OfferTimeoutSeconds { get; init; }

    public double? WrapUpSeconds { get; init; }

    public int? ElderlyAge { get; init; }

    public IReadOnlyDictionary<Segment, HeadStart>? HeadStart { get; init; }

    public AgentSelection? AgentSelection { get; init; }

    public IReadOnlyList<RelaxationStep>? Relaxation { get; init; }

    public int? MaxWaiting { get; init; }

    public double? MaxWaitSeconds { get; init; }

    public string? OverflowQueueId { get; init; }

    /// <summary>The queue's alert bounds; null: no alerts.</summary>
    public QueueAlerts? Alerts { get; init; }

    /// <summary>When the queue proposes callbacks; null: never.</summary>
    public CallbackOffer? CallbackOffer { get; init; }
}

/// <summary>A queue proposes a callback (position events' <c>callbackProposed</c>) while a customer's estimated wait is
/// over <see cref="WhenEstimatedWaitOverSeconds"/>.</summary>
public sealed record CallbackOffer(double WhenEstimatedWaitOverSeconds);

/// <summary>A queue's alert bounds, each optional (null: off). An alert is raised while the longest wait, the elderly
/// longest wait or the number waiting is above its bound, or today's service level below its bound.</summary>
public sealed record QueueAlerts
{
    public double? LongestWaitSeconds { get; init; }

    public double? ElderlyLongestWaitSeconds { get; init; }

    /// <summary>A fraction in [0, 1].</summary>
    public double? ServiceLevelBelow { get; init; }

    public int? WaitingAbove { get; init; }
}

/// <summary>After <see cref="AfterSeconds"/> of waiting, every required skill level is lowered by
/// <see cref="LowerBy"/>.</summary>
public sealed record RelaxationStep(double AfterSeconds, int LowerBy);

/// <summary><c>GET /v1/queues/{id}</c>: the configuration with every field filled in, plus the id.</summary>
public sealed record QueueConfig
{
    public required string Id { get; init; }

    public string? Name { get; init; }

    public double ServiceLevelSeconds { get; init; }

    public double OfferTimeoutSeconds { get; init; }

    public double WrapUpSeconds { get; init; }

    public int ElderlyAge { get; init; }

    public IReadOnlyDictionary<Segment, HeadStart> HeadStart { get; init; } = new Dictionary<Segment, HeadStart>();

    public AgentSelection AgentSelection { get; init; }

    public IReadOnlyList<RelaxationStep> Relaxation { get; init; } = [];

    public int MaxWaiting { get; init; }

    public double MaxWaitSeconds { get; init; }

    public string? OverflowQueueId { get; init; }

    /// <summary>The alert bounds (every bound null when none is set).</summary>
    public QueueAlerts Alerts { get; init; } = new();

    /// <summary>When the queue proposes callbacks; null: never.</summary>
    public CallbackOffer? CallbackOffer { get; init; }

    /// <summary>The same configuration as a PUT body (to change one field and put it back).</summary>
    public QueueSettings ToSettings() => new()
    {
        Name = Name,
        ServiceLevelSeconds = ServiceLevelSeconds,
        OfferTimeoutSeconds = OfferTimeoutSeconds,
        WrapUpSeconds = WrapUpSeconds,
        ElderlyAge = ElderlyAge,
        HeadStart = HeadStart,
        AgentSelection = AgentSelection,
        Relaxation = Relaxation,
        MaxWaiting = MaxWaiting,
        MaxWaitSeconds = MaxWaitSeconds,
        OverflowQueueId = OverflowQueueId,
        Alerts = Alerts,
        CallbackOffer = CallbackOffer,
    };
}
