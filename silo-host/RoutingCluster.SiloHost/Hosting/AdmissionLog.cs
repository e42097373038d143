namespace RoutingCluster.SiloHost.Hosting;

internal static partial class AdmissionLog
{
    [LoggerMessage(EventId = LogEventIds.AdmissionShedding, Level = LogLevel.Warning,
        Message = "Overloaded: {Refused} new session(s) refused with 503 since the last warning (now: {Bound} bound reached; delay {DelayMs:0.0} ms, {InFlight} creates in flight)")]
    public static partial void AdmissionShedding(this ILogger logger, long refused, string bound, double delayMs, int inFlight);
}
