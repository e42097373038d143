using Microsoft.AspNetCore.SignalR;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>
/// <c>/hubs/wallboard</c>: supervisors' wallboards. Read-only: a client listens for <c>snapshot</c>
/// (a <see cref="WallboardSnapshot"/>), which it gets at once on connecting and then about once a second, and for
/// <c>alert</c> (an <see cref="Api.Contracts.AlertChangeMessage"/>) when an alert is raised or cleared.
/// </summary>
public sealed class WallboardHub(WallboardPublisher publisher) : Hub
{
    public const string SnapshotMethod = "snapshot";

    public const string AlertMethod = "alert";

    public override async Task OnConnectedAsync()
    {
        publisher.Watching(+1);
        if (publisher.Latest is { } latest)
        {
            await Clients.Caller.SendAsync(SnapshotMethod, latest, Context.ConnectionAborted);
        }

        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        publisher.Watching(-1);
        return base.OnDisconnectedAsync(exception);
    }
}
