using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Shoal.Bencoding;
using Shoal.Metainfo;

namespace Shoal.Trackers.Server;

/// <summary>
/// The HTTP tracker's side of BEP 3, BEP 7, BEP 23 and BEP 48: parsing announce and scrape query strings (raw
/// percent-decoded bytes for info_hash and peer_id) and writing bencoded answers. The peer's address always
/// comes from the connection: the <c>ip</c> parameter is ignored, so nobody can register someone else.
/// </summary>
public static class HttpTrackerProtocol
{
    /// <summary>Longest query string accepted.</summary>
    public const int MaxQueryLength = 8192;

    /// <summary>Most info-hashes in one scrape.</summary>
    public const int MaxScrapeHashes = 100;

    /// <summary>Parses an announce query (with or without the leading '?').</summary>
    /// <exception cref="TrackerFormatException">A required parameter is missing or a value is malformed.</exception>
    public static HttpAnnounceQuery ParseAnnounce(ReadOnlySpan<char> query, IPAddress remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
        Span<byte> infoHash = stackalloc byte[InfoHash.Length];
        Span<byte> peerId = stackalloc byte[20];
        bool hasInfoHash = false, hasPeerId = false, compact = true, noPeerId = false;
        int port = -1, numWant = -1;
        long uploaded = 0, downloaded = 0, left = 0;
        AnnounceEvent evt = AnnounceEvent.None;

        foreach ((ReadOnlySpan<char> key, ReadOnlySpan<char> value) in Parameters(query))
        {
            switch (key)
            {
                case "info_hash":
                    DecodeExact(value, infoHash, "info_hash");
                    hasInfoHash = true;
                    break;
                case "peer_id":
                    DecodeExact(value, peerId, "peer_id");
                    hasPeerId = true;
                    break;
                case "port":
                    port = (int)Number(value, "port", 1, 65535);
                    break;
                case "uploaded":
                    uploaded = Number(value, "uploaded", 0, long.MaxValue);
                    break;
                case "downloaded":
                    downloaded = Number(value, "downloaded", 0, long.MaxValue);
                    break;
                case "left":
                    left = Number(value, "left", 0, long.MaxValue);
                    break;
                case "numwant":
                    numWant = value.Length > 0 && value[0] == '-' ? -1 : (int)Number(value, "numwant", 0, int.MaxValue);
                    break;
                case "compact":
                    compact = value is not "0";
                    break;
                case "no_peer_id":
                    noPeerId = value is not "0";
                    break;
                case "event":
                    evt = value switch
                    {
                        "started" => AnnounceEvent.Started,
                        "completed" => AnnounceEvent.Completed,
                        "stopped" => AnnounceEvent.Stopped,
                        "" or "empty" or "paused" => AnnounceEvent.None,
                        _ => throw new TrackerFormatException($"unknown event '{Shorten(value)}'"),
                    };
                    break;
                default:
                    break; // key, ip, trackerid and extensions: not needed
            }
        }
        if (!hasInfoHash) throw new TrackerFormatException("missing info_hash");
        if (!hasPeerId) throw new TrackerFormatException("missing peer_id");
        if (port < 0) throw new TrackerFormatException("missing port");
        var announce = new PeerAnnounce(new InfoHash(infoHash), peerId.ToArray(), remote, port, uploaded, downloaded, left, evt, numWant);
        return new HttpAnnounceQuery(announce, compact, noPeerId);
    }

    /// <summary>Parses a scrape query: one or more info_hash parameters, duplicates dropped.</summary>
    /// <exception cref="TrackerFormatException">No info_hash (full scrapes are not served), too many, or a malformed one.</exception>
    public static IReadOnlyList<InfoHash> ParseScrape(ReadOnlySpan<char> query)
    {
        var hashes = new List<InfoHash>();
        Span<byte> bytes = stackalloc byte[InfoHash.Length];
        foreach ((ReadOnlySpan<char> key, ReadOnlySpan<char> value) in Parameters(query))
        {
            if (key is not "info_hash") continue;
            DecodeExact(value, bytes, "info_hash");
            var hash = new InfoHash(bytes);
            if (hashes.Contains(hash)) continue;
            if (hashes.Count == MaxScrapeHashes) throw new TrackerFormatException($"at most {MaxScrapeHashes} info-hashes per scrape");
            hashes.Add(hash);
        }
        if (hashes.Count == 0) throw new TrackerFormatException("scrape needs an info_hash (full scrapes are not served)");
        return hashes;
    }

    /// <summary>
    /// Writes an announce answer: counts, intervals, then the peers as compact <c>peers</c>/<c>peers6</c> strings or
    /// as a dictionary list (BEP 3).
    /// </summary>
    public static void WriteAnnounceResponse(IBufferWriter<byte> output, in AnnounceOutcome outcome, ReadOnlySpan<SwarmPeer> peers, bool compact, bool noPeerId)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new BencodeWriter(output);
        writer.WriteDictionaryStart();
        writer.WriteString("complete");
        writer.WriteInteger(outcome.Seeders);
        writer.WriteString("incomplete");
        writer.WriteInteger(outcome.Leechers);
        writer.WriteString("interval");
        writer.WriteInteger((long)outcome.Interval.TotalSeconds);
        writer.WriteString("min interval");
        writer.WriteInteger((long)outcome.MinInterval.TotalSeconds);
        writer.WriteString("peers");
        if (compact)
        {
            WriteCompact(writer, peers, AddressFamily.InterNetwork);
            writer.WriteString("peers6");
            WriteCompact(writer, peers, AddressFamily.InterNetworkV6);
        }
        else
        {
            writer.WriteListStart();
            foreach (SwarmPeer peer in peers)
            {
                writer.WriteDictionaryStart();
                writer.WriteString("ip");
                writer.WriteString(peer.Address.ToString());
                if (!noPeerId)
                {
                    writer.WriteString("peer id");
                    writer.WriteString(peer.PeerId.Span);
                }
                writer.WriteString("port");
                writer.WriteInteger(peer.Port);
                writer.WriteEnd();
            }
            writer.WriteEnd();
        }
        writer.WriteEnd();
    }

    /// <summary>Writes a scrape answer (BEP 48) for the given torrents.</summary>
    public static void WriteScrapeResponse(IBufferWriter<byte> output, IReadOnlyList<KeyValuePair<InfoHash, ScrapeEntry>> files)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(files);
        // Dictionary keys must be in raw byte order.
        var sorted = new List<KeyValuePair<InfoHash, ScrapeEntry>>(files);
        sorted.Sort(static (a, b) => a.Key.Span.SequenceCompareTo(b.Key.Span));
        var writer = new BencodeWriter(output);
        writer.WriteDictionaryStart();
        writer.WriteString("files");
        writer.WriteDictionaryStart();
        for (int i = 0; i < sorted.Count; i++)
        {
            if (i > 0 && sorted[i].Key == sorted[i - 1].Key) continue;
            writer.WriteString(sorted[i].Key.Span);
            writer.WriteDictionaryStart();
            writer.WriteString("complete");
            writer.WriteInteger(sorted[i].Value.Seeders);
            writer.WriteString("downloaded");
            writer.WriteInteger(sorted[i].Value.Completed);
            writer.WriteString("incomplete");
            writer.WriteInteger(sorted[i].Value.Leechers);
            writer.WriteEnd();
        }
        writer.WriteEnd();
        writer.WriteEnd();
    }

    /// <summary>Writes <c>d14:failure reason...e</c>.</summary>
    public static void WriteFailure(IBufferWriter<byte> output, string reason)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reason);
        var writer = new BencodeWriter(output);
        writer.WriteDictionaryStart();
        writer.WriteString("failure reason");
        writer.WriteString(reason);
        writer.WriteEnd();
    }

    private static void WriteCompact(BencodeWriter writer, ReadOnlySpan<SwarmPeer> peers, AddressFamily family)
    {
        int size = family == AddressFamily.InterNetwork ? CompactPeers.V4Length : CompactPeers.V6Length;
        int count = 0;
        foreach (SwarmPeer peer in peers)
        {
            if (peer.Address.AddressFamily == family) count++;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, count * size));
        try
        {
            int length = 0;
            foreach (SwarmPeer peer in peers)
            {
                if (peer.Address.AddressFamily == family) length += CompactPeers.Write(peer.Address, peer.Port, buffer.AsSpan(length));
            }
            writer.WriteString(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeExact(ReadOnlySpan<char> value, Span<byte> destination, string name)
    {
        Span<byte> decoded = stackalloc byte[32];
        int length = TrackerUrl.TryPercentDecode(value, decoded);
        if (length != destination.Length)
        {
            throw new TrackerFormatException(length < 0
                ? $"{name} is not valid percent-encoding"
                : $"{name} must be {destination.Length} bytes, not {length}");
        }
        decoded[..length].CopyTo(destination);
    }

    private static long Number(ReadOnlySpan<char> value, string name, long min, long max)
    {
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number) || number < min || number > max)
        {
            throw new TrackerFormatException($"{name} '{Shorten(value)}' is not a number from {min} to {max}");
        }
        return number;
    }

    private static string Shorten(ReadOnlySpan<char> value)
    {
        ReadOnlySpan<char> shown = value.Length > 40 ? value[..40] : value;
        var chars = new char[shown.Length];
        for (int i = 0; i < shown.Length; i++) chars[i] = char.IsControl(shown[i]) ? '?' : shown[i];
        return new string(chars);
    }

    private static ParameterEnumerator Parameters(ReadOnlySpan<char> query)
    {
        if (query.Length > 0 && query[0] == '?') query = query[1..];
        if (query.Length > MaxQueryLength) throw new TrackerFormatException($"query string is longer than {MaxQueryLength} characters");
        return new ParameterEnumerator(query);
    }

    /// <summary>One <c>key=value</c> of a query, both still percent-encoded.</summary>
    private readonly ref struct Parameter(ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        private readonly ReadOnlySpan<char> _key = key;
        private readonly ReadOnlySpan<char> _value = value;

        public void Deconstruct(out ReadOnlySpan<char> key, out ReadOnlySpan<char> value)
        {
            key = _key;
            value = _value;
        }
    }

    /// <summary>Walks <c>key=value&amp;...</c> without allocating.</summary>
    private ref struct ParameterEnumerator(ReadOnlySpan<char> query)
    {
        private ReadOnlySpan<char> _rest = query;

        public Parameter Current { get; private set; }

        public readonly ParameterEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_rest.Length > 0)
            {
                int amp = _rest.IndexOf('&');
                ReadOnlySpan<char> pair = amp < 0 ? _rest : _rest[..amp];
                _rest = amp < 0 ? [] : _rest[(amp + 1)..];
                if (pair.Length == 0) continue;
                int eq = pair.IndexOf('=');
                Current = eq < 0 ? new Parameter(pair, []) : new Parameter(pair[..eq], pair[(eq + 1)..]);
                return true;
            }
            return false;
        }
    }
}
