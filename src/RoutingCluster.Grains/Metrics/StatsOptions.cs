namespace RoutingCluster.Grains.Metrics;

/// <summary>Settings of the live statistics (configuration section <c>Stats</c>).</summary>
public sealed class StatsOptions
{
    /// <summary>Off: no counting at all (to measure what the statistics cost).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often each silo sends what it counted to the statistics grains (live figures are at most this
    /// much older than the routing, plus one call).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a statistics grain writes the intervals that changed.</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Standard working hours of one agent in one day, for daily handled per agent.</summary>
    public double StandardHoursPerAgentDay { get; set; } = Abstractions.Metrics.KpiFigures.DefaultStandardHoursPerAgentDay;
}
