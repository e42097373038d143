using System.Buffers;

namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>The ids of sessions, agents, queues and skills: 1 to 128 characters from <c>[A-Za-z0-9._:-]</c>.</summary>
public static class Ids
{
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    /// <summary>Why <paramref name="id"/> is not a valid id, or null when it is.</summary>
    public static string? Problem(string id) =>
        id.Length is 0 or > Limits.MaxIdLength ? $"Must be 1 to {Limits.MaxIdLength} characters."
        : id.AsSpan().ContainsAnyExcept(Allowed) ? "May contain only letters, digits and . _ : -"
        : null;
}
