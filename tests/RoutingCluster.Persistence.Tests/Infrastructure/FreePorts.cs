using System.Net;
using System.Net.Sockets;

namespace RoutingCluster.Persistence.Tests.Infrastructure;

public static class FreePorts
{
    /// <summary>Loopback ports nothing listens on right now (bound and released: good enough for tests).</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
