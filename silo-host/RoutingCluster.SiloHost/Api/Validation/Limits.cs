namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>The bounds of valid input (the contract's ranges and some sanity limits).</summary>
public static class Limits
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxIdLength = 128;
    public const int MaxNameLength = 200;
    public const int MaxIdempotencyKeyLength = 255;
    public const int MinSkillLevel = 1;
    public const int MaxSkillLevel = 5;
    public const int MaxSkills = 64;
    public const int MaxQueuesPerAgent = 64;
    public const int MaxCapacity = 100;
    public const int MaxAge = 150;
    public const int MaxAttributes = 64;
    public const int MaxAttributeValueLength = 1024;
    public const int MaxRelaxationSteps = 16;
    public const int MaxWaitingLimit = 1_000_000;

    /// <summary>One day: no duration in a queue's configuration or a session request is longer.</summary>
    public const double MaxSeconds = 86_400;
}
