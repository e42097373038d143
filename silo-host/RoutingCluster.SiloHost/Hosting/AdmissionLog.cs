namespace RoutingCluster.SiloHost.Hosting;

internal static partial class AdmissionLog
{
    [LoggerMessage(EventId = LogEventIds.AdmissionShedding, Level = LogLevel.Warning,
        Message = "Overloaded: refusing new sessions with 503 ({Bound} bound reached; delay {DelayMs:0.0} ms, {InFlight} creates in flight)")]
    public static partial void AdmissionShedding(this ILogger logger, string bound, double delayMs, int inFlight);

    [LoggerMessage(EventId = LogEventIds.AdmissionRecovered, Level = LogLevel.Information,
        Message = "Taking new sessions again (delay {DelayMs:0.0} ms, {InFlight} creates in flight)")]
    public static partial void AdmissionRecovered(this ILogger logger, double delayMs, int inFlight);
}
