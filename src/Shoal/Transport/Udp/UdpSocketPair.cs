using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport.Udp;

/// <summary>
/// The IPv4 and the IPv6 <see cref="UdpSocket"/> of one port number: what a session's UDP port is. Two sockets, not
/// one dual-mode socket, because BEP 32 makes the IPv6 DHT a network of its own (and uTP connection ids are per
/// socket anyway). Either may be missing: not asked for, or not bindable (a host without IPv6).
/// </summary>
public sealed class UdpSocketPair : IAsyncDisposable
{
    private UdpSocketPair(UdpSocket? ipv4, UdpSocket? ipv6, SocketException? ipv4Error, SocketException? ipv6Error)
    {
        Ipv4 = ipv4;
        Ipv6 = ipv6;
        Ipv4Error = ipv4Error;
        Ipv6Error = ipv6Error;
    }

    /// <summary>The IPv4 socket; null when not asked for or not bound (<see cref="Ipv4Error"/>).</summary>
    public UdpSocket? Ipv4 { get; }

    /// <summary>The IPv6 socket; null when not asked for or not bound (<see cref="Ipv6Error"/>).</summary>
    public UdpSocket? Ipv6 { get; }

    /// <summary>Why the IPv4 socket asked for could not bind; null when it did or was not asked for.</summary>
    public SocketException? Ipv4Error { get; }

    /// <summary>Why the IPv6 socket asked for could not bind (at the shared port number and at any); null when it did or was not asked for.</summary>
    public SocketException? Ipv6Error { get; }

    /// <summary>The IPv4 socket's endpoint if it runs, else the IPv6 socket's.</summary>
    public IPEndPoint LocalEndPoint => (Ipv4 ?? Ipv6)!.LocalEndPoint;

    /// <summary>
    /// Binds <paramref name="ipv4Address"/>:<paramref name="port"/> first, then <paramref name="ipv6Address"/> on the
    /// same port number (the one the IPv4 socket got when <paramref name="port"/> is 0); when that number is taken in
    /// IPv6 by someone else, any free port beats no IPv6 at all. A null address skips its family.
    /// </summary>
    /// <exception cref="SocketException">No family could bind (the first family's error).</exception>
    public static UdpSocketPair Bind(IPAddress? ipv4Address, IPAddress? ipv6Address, int port, Action<string>? log = null)
    {
        if (ipv4Address is not null && ipv4Address.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException($"{ipv4Address} is not an IPv4 address", nameof(ipv4Address));
        if (ipv6Address is not null && ipv6Address.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException($"{ipv6Address} is not an IPv6 address", nameof(ipv6Address));
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        UdpSocket? v4 = null, v6 = null;
        SocketException? v4Error = null, v6Error = null;
        if (ipv4Address is not null)
        {
            try
            {
                v4 = UdpSocket.Bind(new IPEndPoint(ipv4Address, port), log);
                port = v4.LocalEndPoint.Port;
            }
            catch (SocketException ex)
            {
                v4Error = ex;
            }
        }
        if (ipv6Address is not null)
        {
            try
            {
                v6 = UdpSocket.Bind(new IPEndPoint(ipv6Address, port), log);
            }
            catch (SocketException ex) when (port != 0 && v4 is not null)
            {
                try
                {
                    v6 = UdpSocket.Bind(new IPEndPoint(ipv6Address, 0), log);
                }
                catch (SocketException)
                {
                    v6Error = ex;
                }
            }
            catch (SocketException ex)
            {
                v6Error = ex;
            }
        }
        if (v4 is null && v6 is null) throw v4Error ?? v6Error ?? new SocketException((int)SocketError.AddressNotAvailable);
        return new UdpSocketPair(v4, v6, v4Error, v6Error);
    }

    /// <summary>Closes both sockets (see <see cref="UdpSocket.DisposeAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Ipv4 is not null) await Ipv4.DisposeAsync().ConfigureAwait(false);
        if (Ipv6 is not null) await Ipv6.DisposeAsync().ConfigureAwait(false);
    }
}
