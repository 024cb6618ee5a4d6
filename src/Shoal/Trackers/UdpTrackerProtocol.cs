using System.Buffers.Binary;
using System.Net;
using System.Text;
using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>
/// BEP 15 packet layouts, shared by the client and the server. Writers fill a caller's buffer; readers take the
/// client's side (responses) and throw only <see cref="TrackerFormatException"/>.
/// </summary>
public static class UdpTrackerProtocol
{
    /// <summary>The magic constant of a connect request.</summary>
    public const long ProtocolId = 0x41727101980;

    /// <summary>Action numbers.</summary>
    public const int ActionConnect = 0, ActionAnnounce = 1, ActionScrape = 2, ActionError = 3;

    /// <summary>Sizes of the fixed packets.</summary>
    public const int ConnectRequestLength = 16, ConnectResponseLength = 16, AnnounceRequestLength = 98,
        AnnounceResponseHeaderLength = 20, ScrapeRequestHeaderLength = 16, ScrapeResponseHeaderLength = 8, ScrapeEntryLength = 12;

    /// <summary>Most info-hashes in one scrape request (BEP 15: about 74 fit in a packet).</summary>
    public const int MaxScrapeHashes = 74;

    /// <summary>Writes a connect request; returns its length.</summary>
    public static int WriteConnectRequest(Span<byte> packet, int transactionId)
    {
        BinaryPrimitives.WriteInt64BigEndian(packet, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(packet[8..], ActionConnect);
        BinaryPrimitives.WriteInt32BigEndian(packet[12..], transactionId);
        return ConnectRequestLength;
    }

    /// <summary>Writes an announce request; returns its length.</summary>
    public static int WriteAnnounceRequest(Span<byte> packet, long connectionId, int transactionId, AnnounceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PeerId.Length != 20) throw new ArgumentException("a peer id is 20 bytes", nameof(request));
        BinaryPrimitives.WriteInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet[8..], ActionAnnounce);
        BinaryPrimitives.WriteInt32BigEndian(packet[12..], transactionId);
        request.InfoHash.Span.CopyTo(packet[16..]);
        request.PeerId.Span.CopyTo(packet[36..]);
        BinaryPrimitives.WriteInt64BigEndian(packet[56..], request.Downloaded);
        BinaryPrimitives.WriteInt64BigEndian(packet[64..], request.Left);
        BinaryPrimitives.WriteInt64BigEndian(packet[72..], request.Uploaded);
        BinaryPrimitives.WriteInt32BigEndian(packet[80..], (int)request.Event);
        BinaryPrimitives.WriteInt32BigEndian(packet[84..], 0); // IP: 0 means "the sender's address"
        BinaryPrimitives.WriteUInt32BigEndian(packet[88..], request.Key);
        BinaryPrimitives.WriteInt32BigEndian(packet[92..], request.NumWant);
        BinaryPrimitives.WriteUInt16BigEndian(packet[96..], (ushort)request.Port);
        return AnnounceRequestLength;
    }

    /// <summary>Writes a scrape request; returns its length.</summary>
    public static int WriteScrapeRequest(Span<byte> packet, long connectionId, int transactionId, IReadOnlyList<InfoHash> infoHashes)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        if (infoHashes.Count > MaxScrapeHashes) throw new ArgumentException($"at most {MaxScrapeHashes} info-hashes per scrape", nameof(infoHashes));
        BinaryPrimitives.WriteInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet[8..], ActionScrape);
        BinaryPrimitives.WriteInt32BigEndian(packet[12..], transactionId);
        int offset = ScrapeRequestHeaderLength;
        for (int i = 0; i < infoHashes.Count; i++)
        {
            infoHashes[i].Span.CopyTo(packet[offset..]);
            offset += InfoHash.Length;
        }
        return offset;
    }

    /// <summary>
    /// Reads the action and transaction id of a response; false when the packet is too short to have them
    /// (such a packet is ignored, as BEP 15 says).
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> packet, out int action, out int transactionId)
    {
        if (packet.Length < 8)
        {
            action = transactionId = 0;
            return false;
        }
        action = BinaryPrimitives.ReadInt32BigEndian(packet);
        transactionId = BinaryPrimitives.ReadInt32BigEndian(packet[4..]);
        return true;
    }

    /// <summary>The connection id of a connect response.</summary>
    public static long ReadConnectResponse(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < ConnectResponseLength) throw new TrackerFormatException($"connect response of {packet.Length} bytes is shorter than 16");
        return BinaryPrimitives.ReadInt64BigEndian(packet[8..]);
    }

    /// <summary>Parses an announce response; peers are 6 bytes each from an IPv4 tracker, 18 from an IPv6 one.</summary>
    public static AnnounceResponse ReadAnnounceResponse(ReadOnlySpan<byte> packet, bool ipv6, int maxPeers)
    {
        if (packet.Length < AnnounceResponseHeaderLength) throw new TrackerFormatException($"announce response of {packet.Length} bytes is shorter than 20");
        int interval = BinaryPrimitives.ReadInt32BigEndian(packet[8..]);
        int leechers = BinaryPrimitives.ReadInt32BigEndian(packet[12..]);
        int seeders = BinaryPrimitives.ReadInt32BigEndian(packet[16..]);
        if (interval < 0) throw new TrackerFormatException($"announce response interval {interval} is negative");
        var peers = new List<IPEndPoint>();
        ReadOnlySpan<byte> compact = packet[AnnounceResponseHeaderLength..];
        int size = ipv6 ? CompactPeers.V6Length : CompactPeers.V4Length;
        // A trailing partial entry is cut off rather than rejected: it is how a truncated datagram looks.
        CompactPeers.Parse(compact[..(compact.Length - (compact.Length % size))], ipv6, peers, maxPeers);
        return new AnnounceResponse(TimeSpan.FromSeconds(interval), null, peers,
            seeders >= 0 ? seeders : null, leechers >= 0 ? leechers : null);
    }

    /// <summary>Parses a scrape response, pairing entries with the requested info-hashes in order.</summary>
    public static ScrapeResponse ReadScrapeResponse(ReadOnlySpan<byte> packet, IReadOnlyList<InfoHash> infoHashes)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        int expected = ScrapeResponseHeaderLength + (infoHashes.Count * ScrapeEntryLength);
        if (packet.Length < expected) throw new TrackerFormatException($"scrape response of {packet.Length} bytes is shorter than {expected}");
        var files = new Dictionary<InfoHash, ScrapeEntry>(infoHashes.Count);
        for (int i = 0; i < infoHashes.Count; i++)
        {
            ReadOnlySpan<byte> entry = packet.Slice(ScrapeResponseHeaderLength + (i * ScrapeEntryLength), ScrapeEntryLength);
            files[infoHashes[i]] = new ScrapeEntry(
                (uint)BinaryPrimitives.ReadInt32BigEndian(entry),
                (uint)BinaryPrimitives.ReadInt32BigEndian(entry[4..]),
                (uint)BinaryPrimitives.ReadInt32BigEndian(entry[8..]));
        }
        return new ScrapeResponse(files);
    }

    /// <summary>The message of an error response, made printable and short.</summary>
    public static string ReadErrorMessage(ReadOnlySpan<byte> packet)
    {
        ReadOnlySpan<byte> message = packet.Length > 8 ? packet[8..] : [];
        if (message.Length > 300) message = message[..300];
        var text = new StringBuilder(message.Length);
        foreach (char c in Encoding.UTF8.GetString(message)) text.Append(char.IsControl(c) ? ' ' : c);
        return text.Length == 0 ? "(no message)" : text.ToString().Trim();
    }
}
