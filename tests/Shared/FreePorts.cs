using System.Net;
using System.Net.Sockets;

namespace RoutingCluster.Tests.Shared;

/// <summary>Loopback ports for the hosts, silos and servers the tests start, so they run beside anything started by hand.</summary>
public static class FreePorts
{
    /// <summary>Loopback ports nothing listens on right now (bound together and released: good enough for tests).</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return [.. listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    public static int One() => Take(1)[0];
}
