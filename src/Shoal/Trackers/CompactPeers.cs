using System.Buffers.Binary;
using System.Net;

namespace Shoal.Trackers;

/// <summary>
/// The compact peer forms: 6 bytes per IPv4 peer (BEP 23) and 18 bytes per IPv6 peer (BEP 7), address then
/// port, both big-endian.
/// </summary>
public static class CompactPeers
{
    /// <summary>Bytes per compact IPv4 peer.</summary>
    public const int V4Length = CompactEndPoint.V4Length;

    /// <summary>Bytes per compact IPv6 peer.</summary>
    public const int V6Length = CompactEndPoint.V6Length;

    /// <summary>
    /// Appends the peers of <paramref name="data"/> to <paramref name="peers"/>, at most <paramref name="max"/>
    /// in all. Port 0 entries are skipped (nobody can connect to them).
    /// </summary>
    /// <exception cref="TrackerFormatException">The length is not a multiple of the entry size.</exception>
    public static void Parse(ReadOnlySpan<byte> data, bool ipv6, List<IPEndPoint> peers, int max)
    {
        ArgumentNullException.ThrowIfNull(peers);
        int size = ipv6 ? V6Length : V4Length;
        if (data.Length % size != 0)
        {
            throw new TrackerFormatException($"compact {(ipv6 ? "peers6" : "peers")} is {data.Length} bytes, not a multiple of {size}");
        }
        for (int offset = 0; offset < data.Length && peers.Count < max; offset += size)
        {
            IPEndPoint peer = CompactEndPoint.Read(data.Slice(offset, size));
            if (peer.Port != 0) peers.Add(peer);
        }
    }

    /// <summary>Writes one peer in compact form; returns the bytes written (6 or 18).</summary>
    public static int Write(IPAddress address, int port, Span<byte> destination)
        => CompactEndPoint.Write(new IPEndPoint(address, port), destination);
}
