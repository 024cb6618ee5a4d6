namespace Shoal.Transport.Udp;

/// <summary>
/// How the protocols sharing the session's UDP port tell their datagrams apart (libtorrent's udp_socket does the
/// same): a KRPC message is a bencoded dictionary, so it starts with 'd' (0x64); a uTP packet (BEP 29) starts with
/// its type in the high nibble (0 to 4) and version 1 in the low one — 0x01, 0x11, 0x21, 0x31 or 0x41 — and has at
/// least its 20-byte header. The two sets of first bytes do not overlap.
/// </summary>
public static class DatagramShapes
{
    /// <summary>Bytes of a uTP header.</summary>
    public const int UtpHeaderLength = 20;

    /// <summary>A KRPC (DHT) message: a bencoded dictionary.</summary>
    public static bool IsKrpc(ReadOnlySpan<byte> datagram) => datagram.Length > 0 && datagram[0] == (byte)'d';

    /// <summary>A uTP packet: version 1, type ST_DATA to ST_SYN, a full header.</summary>
    public static bool IsUtp(ReadOnlySpan<byte> datagram)
        => datagram.Length >= UtpHeaderLength && (datagram[0] & 0x0F) == 1 && (datagram[0] >> 4) <= 4;
}
