using System.Net;
using System.Net.Sockets;

namespace Shoal.Tests.Interop;

/// <summary>Free TCP ports on 127.0.0.1 and a readiness probe.</summary>
public static class LoopbackPort
{
    /// <summary>A port that was free a moment ago (bound to port 0 and released): race-prone, but fine on one test host.</summary>
    public static int FreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>; false after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitUntilListeningAsync(int port, TimeSpan timeout, ChildProcess? owner = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (owner is { HasExited: true }) return false;
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), attempt.Token).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
            }
            catch (OperationCanceledException)
            {
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
        return false;
    }
}
