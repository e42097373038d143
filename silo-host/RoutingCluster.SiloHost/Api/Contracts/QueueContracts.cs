using System.Text.Json;
using System.Text.Json.Serialization;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Routing.Alerts;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Api.Validation;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary>
/// <c>PUT /v1/queues/{id}</c>: the queue's configuration. Every field is optional, with the contract's defaults
/// (those of <see cref="QueuePolicy"/>); the configuration is replaced as a whole. A head start given for some
/// segments keeps the default for the others.
/// </summary>
public sealed class QueueRequest : IRequestBody
{
    public string? Name { get; init; }

    public double? ServiceLevelSeconds { get; init; }

    public double? OfferTimeoutSeconds { get; init; }

    public double? WrapUpSeconds { get; init; }

    public int? ElderlyAge { get; init; }

    public Dictionary<Segment, HeadStart>? HeadStart { get; init; }

    public AgentSelection? AgentSelection { get; init; }

    public List<RelaxationStepRequest?>? Relaxation { get; init; }

    public int? MaxWaiting { get; init; }

    public double? MaxWaitSeconds { get; init; }

    public string? OverflowQueueId { get; init; }

    public AlertsRequest? Alerts { get; init; }

    /// <summary>When the queue proposes callbacks to customers on the line; null or absent: never.</summary>
    public CallbackOfferRequest? CallbackOffer { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown(string.Empty, Unknown);
        errors.Text("name", Name, Limits.MaxNameLength);
        errors.Seconds("serviceLevelSeconds", ServiceLevelSeconds, min: double.Epsilon);
        errors.Seconds("offerTimeoutSeconds", OfferTimeoutSeconds, min: double.Epsilon);
        errors.Seconds("wrapUpSeconds", WrapUpSeconds);
        errors.Range("elderlyAge", ElderlyAge, 0, Limits.MaxAge);
        foreach (var (segment, headStart) in HeadStart ?? [])
        {
            if (!headStart.IsStrict)
            {
                errors.Seconds($"headStart.{WireNames<Segment>.Of(segment)}", headStart.Seconds);
            }
        }

        if (Relaxation is { } steps)
        {
            if (steps.Count > Limits.MaxRelaxationSteps)
            {
                errors.Add("relaxation", $"At most {Limits.MaxRelaxationSteps} steps.");
            }

            for (var i = 0; i < steps.Count; i++)
            {
                if (steps[i] is not { } step)
                {
                    errors.Add($"relaxation[{i}]", "Required.");
                    continue;
                }

                errors.Unknown($"relaxation[{i}]", step.Unknown);
                errors.Required($"relaxation[{i}].afterSeconds", step.AfterSeconds);
                errors.Seconds($"relaxation[{i}].afterSeconds", step.AfterSeconds);
                errors.Required($"relaxation[{i}].lowerBy", step.LowerBy);
                errors.Range($"relaxation[{i}].lowerBy", step.LowerBy, 1, Limits.MaxSkillLevel - Limits.MinSkillLevel + 1);
            }
        }

        errors.Range("maxWaiting", MaxWaiting, 1, Limits.MaxWaitingLimit);
        errors.Seconds("maxWaitSeconds", MaxWaitSeconds, min: double.Epsilon);
        errors.Id("overflowQueueId", OverflowQueueId);
        Alerts?.Validate(errors);
        CallbackOffer?.Validate(errors);
    }

    public QueueConfig ToConfig(string id)
    {
        var defaults = QueuePolicy.Default;
        var headStarts = new Dictionary<Segment, HeadStart>(defaults.HeadStarts);
        foreach (var (segment, headStart) in HeadStart ?? [])
        {
            headStarts[segment] = headStart;
        }

        return new QueueConfig
        {
            Id = id,
            Name = Name,
            Policy = new QueuePolicy
            {
                ServiceLevelSeconds = ServiceLevelSeconds ?? defaults.ServiceLevelSeconds,
                OfferTimeoutSeconds = OfferTimeoutSeconds ?? defaults.OfferTimeoutSeconds,
                WrapUpSeconds = WrapUpSeconds ?? defaults.WrapUpSeconds,
                ElderlyAge = ElderlyAge ?? defaults.ElderlyAge,
                HeadStarts = headStarts,
                AgentSelection = AgentSelection ?? defaults.AgentSelection,
                Relaxation = [.. (Relaxation ?? []).Select(s => new RelaxationStep(s!.AfterSeconds!.Value, s.LowerBy!.Value)).OrderBy(s => s.AfterSeconds)],
                MaxWaiting = MaxWaiting ?? defaults.MaxWaiting,
                MaxWaitSeconds = MaxWaitSeconds ?? defaults.MaxWaitSeconds,
                OverflowQueueId = OverflowQueueId,
                Alerts = Alerts?.ToBounds(),
                CallbackOffer = CallbackOffer is { } offer ? new CallbackOffer(offer.WhenEstimatedWaitOverSeconds!.Value) : null,
            },
        };
    }
}

/// <summary>A queue's alert bounds; each is optional, and null or absent turns it off.</summary>
public sealed class AlertsRequest
{
    public double? LongestWaitSeconds { get; init; }

    public double? ElderlyLongestWaitSeconds { get; init; }

    public double? ServiceLevelBelow { get; init; }

    public int? WaitingAbove { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown("alerts", Unknown);
        errors.Seconds("alerts.longestWaitSeconds", LongestWaitSeconds);
        errors.Seconds("alerts.elderlyLongestWaitSeconds", ElderlyLongestWaitSeconds);
        errors.Fraction("alerts.serviceLevelBelow", ServiceLevelBelow);
        errors.Range("alerts.waitingAbove", WaitingAbove, 0, Limits.MaxWaitingLimit);
    }

    /// <summary>The bounds, or null when every one is off.</summary>
    public AlertBounds? ToBounds()
    {
        var bounds = new AlertBounds
        {
            LongestWaitSeconds = LongestWaitSeconds,
            ElderlyLongestWaitSeconds = ElderlyLongestWaitSeconds,
            ServiceLevelBelow = ServiceLevelBelow,
            WaitingAbove = WaitingAbove,
        };
        return bounds.IsEmpty ? null : bounds;
    }
}

/// <summary>A queue's alert bounds as answered: every bound, null where it is off.</summary>
public sealed record AlertsResponse(double? LongestWaitSeconds, double? ElderlyLongestWaitSeconds, double? ServiceLevelBelow, int? WaitingAbove)
{
    public static AlertsResponse From(AlertBounds? bounds) =>
        new(bounds?.LongestWaitSeconds, bounds?.ElderlyLongestWaitSeconds, bounds?.ServiceLevelBelow, bounds?.WaitingAbove);
}

/// <summary>A queue proposes a callback (on <c>position</c> events) while a customer's estimated wait is over the bound.</summary>
public sealed class CallbackOfferRequest
{
    public double? WhenEstimatedWaitOverSeconds { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    public void Validate(FieldErrors errors)
    {
        errors.Unknown("callbackOffer", Unknown);
        errors.Required("callbackOffer.whenEstimatedWaitOverSeconds", WhenEstimatedWaitOverSeconds);
        errors.Seconds("callbackOffer.whenEstimatedWaitOverSeconds", WhenEstimatedWaitOverSeconds);
    }
}

/// <summary>A queue's callback proposal as answered.</summary>
public sealed record CallbackOfferResponse(double WhenEstimatedWaitOverSeconds);

public sealed class RelaxationStepRequest
{
    public double? AfterSeconds { get; init; }

    public int? LowerBy { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }
}

/// <summary><c>GET /v1/queues/{id}</c>: the shape of the PUT body, every field filled in, plus the id.</summary>
public sealed record QueueResponse(
    string Id,
    string? Name,
    double ServiceLevelSeconds,
    double OfferTimeoutSeconds,
    double WrapUpSeconds,
    int ElderlyAge,
    IReadOnlyDictionary<Segment, HeadStart> HeadStart,
    AgentSelection AgentSelection,
    IReadOnlyList<RelaxationStepResponse> Relaxation,
    int MaxWaiting,
    double MaxWaitSeconds,
    string? OverflowQueueId,
    AlertsResponse Alerts,
    CallbackOfferResponse? CallbackOffer)
{
    public static QueueResponse From(QueueConfig config)
    {
        var p = config.Policy;
        return new(
            config.Id,
            config.Name,
            p.ServiceLevelSeconds,
            p.OfferTimeoutSeconds,
            p.WrapUpSeconds,
            p.ElderlyAge,
            Enum.GetValues<Segment>().Where(p.HeadStarts.ContainsKey).ToDictionary(s => s, s => p.HeadStarts[s]),
            p.AgentSelection,
            [.. p.Relaxation.Select(s => new RelaxationStepResponse(s.AfterSeconds, s.LowerBy))],
            p.MaxWaiting,
            p.MaxWaitSeconds,
            p.OverflowQueueId,
            AlertsResponse.From(p.Alerts),
            p.CallbackOffer is { } offer ? new CallbackOfferResponse(offer.WhenEstimatedWaitOverSeconds) : null);
    }
}

public sealed record RelaxationStepResponse(double AfterSeconds, int LowerBy);
