using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Wire;

/// <summary>BEP 6 canonical allowed-fast set generation.</summary>
public static class AllowedFastSet
{
    /// <summary>Upper bound on the set size; BEP 6 suggests 10, more only invites abuse.</summary>
    public const int MaxCount = 1024;

    /// <summary>
    /// Computes the first <paramref name="count"/> pieces of <paramref name="peer"/>'s allowed-fast set with
    /// BEP 6's algorithm: SHA-1 chain over the address masked to its /24 followed by the info-hash. The
    /// count is clamped to the piece count. IPv4-mapped IPv6 addresses are treated as IPv4. BEP 6 has no
    /// IPv6 rule; for native IPv6 Shoal uses the same chain over the 16-byte address masked to its /48
    /// (a site prefix, as /24 is for IPv4) - deterministic, though other clients may compute differently.
    /// </summary>
    public static int[] Compute(IPAddress peer, InfoHash infoHash, int pieceCount, int count)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceCount);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCount);
        count = Math.Min(count, pieceCount);
        if (count == 0) return [];

        if (peer.IsIPv4MappedToIPv6) peer = peer.MapToIPv4();
        Span<byte> seed = stackalloc byte[16 + InfoHash.Length];
        int addressLength;
        if (peer.AddressFamily == AddressFamily.InterNetwork)
        {
            addressLength = 4;
            peer.TryWriteBytes(seed, out _);
            seed[3] = 0;
        }
        else
        {
            addressLength = 16;
            peer.TryWriteBytes(seed, out _);
            seed[6..16].Clear();
        }

        infoHash.Span.CopyTo(seed[addressLength..]);
        ReadOnlySpan<byte> input = seed[..(addressLength + InfoHash.Length)];
        Span<byte> hash = stackalloc byte[20];
        Span<byte> previous = stackalloc byte[20];
        var result = new int[count];
        int found = 0;
        while (found < count)
        {
            SHA1.HashData(input, hash);
            hash.CopyTo(previous); // the next round hashes this hash; never hash in place
            input = previous;
            for (int i = 0; i < 5 && found < count; i++)
            {
                uint y = BinaryPrimitives.ReadUInt32BigEndian(hash[(i * 4)..]);
                int index = (int)(y % (uint)pieceCount);
                if (!result.AsSpan(0, found).Contains(index)) result[found++] = index;
            }
        }

        return result;
    }
}
