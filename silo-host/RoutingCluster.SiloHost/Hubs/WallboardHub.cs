using Microsoft.AspNetCore.SignalR;

namespace RoutingCluster.SiloHost.Hubs;

/// <summary>
/// <c>/hubs/wallboard</c>: supervisors' wallboards. Read-only: a client only listens for <c>snapshot</c>
/// (a <see cref="WallboardSnapshot"/>), which it gets at once on connecting and then about once a second.
/// </summary>
public sealed class WallboardHub(WallboardPublisher publisher) : Hub
{
    public const string SnapshotMethod = "snapshot";

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
