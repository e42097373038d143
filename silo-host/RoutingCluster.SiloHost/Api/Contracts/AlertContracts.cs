using RoutingCluster.Routing.Alerts;

namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary><c>GET /v1/alerts</c>: one active alert. <c>value</c> is the latest figure (seconds, a count, or a
/// fraction for the service level), <c>threshold</c> the bound it went out of, <c>since</c> when it was raised.</summary>
public sealed record AlertResponse(string QueueId, AlertKind Kind, double Value, double Threshold, DateTime Since)
{
    public static AlertResponse From(ActiveAlert alert) =>
        new(alert.QueueId, alert.Kind, alert.Kind == AlertKind.ServiceLevel ? Math.Round(alert.Value, 4) : Wire.Seconds(alert.Value), alert.Threshold, Wire.Utc(alert.Since));
}

/// <summary>Whether an alert was raised or cleared.</summary>
public enum AlertChangeKind
{
    Raised,
    Cleared,
}

/// <summary>Pushed on <c>/hubs/wallboard</c> (method <c>alert</c>) when an alert is raised or cleared.</summary>
public sealed record AlertChangeMessage(AlertChangeKind Change, AlertResponse Alert);
