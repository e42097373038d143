namespace RoutingCluster.SiloHost.Api.Contracts;

/// <summary>Conversions shared by the response contracts.</summary>
internal static class Wire
{
    /// <summary>Times are ISO-8601 UTC on the wire (<c>2026-11-23T08:00:00.123Z</c>).</summary>
    public static DateTime Utc(DateTimeOffset time) => time.UtcDateTime;

    public static DateTime? Utc(DateTimeOffset? time) => time?.UtcDateTime;

    /// <summary>Durations and scores in seconds, to the millisecond.</summary>
    public static double Seconds(double seconds) => Math.Round(seconds, 3);
}
