using System.Net;
using Shoal.Bencoding;
using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>
/// Parses bencoded HTTP tracker answers (BEP 3 announce with BEP 23 compact peers, BEP 7 <c>peers6</c>,
/// BEP 24 <c>external ip</c>; BEP 48 scrape). Pure: no I/O, throws only <see cref="TrackerFormatException"/>.
/// </summary>
public static class HttpTrackerResponseParser
{
    /// <summary>Interval assumed when a tracker leaves it out.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(30);

    /// <summary>Bounds for a tracker answer: small, shallow documents only.</summary>
    public static BencodeLimits Limits { get; } = new() { MaxDepth = 8, MaxItems = 100_000, MaxInputLength = 4 * 1024 * 1024 };

    /// <summary>
    /// Parses an announce answer. Returns null and sets <paramref name="failureReason"/> when the tracker refused
    /// (<c>failure reason</c>). At most <paramref name="maxPeers"/> peers are kept; hostnames in the dictionary
    /// form are skipped (the parser resolves nothing).
    /// </summary>
    /// <exception cref="TrackerFormatException">The answer is malformed.</exception>
    public static AnnounceResponse? ParseAnnounce(ReadOnlyMemory<byte> body, int maxPeers, out string? failureReason)
    {
        BDictionary dict = DecodeDictionary(body);
        failureReason = null;
        try
        {
            if (dict.TryGetString("failure reason", out BString? failure))
            {
                failureReason = Text(failure);
                return null;
            }

            TimeSpan interval = dict.TryGetInteger("interval", out long seconds) ? Seconds("interval", seconds) : DefaultInterval;
            TimeSpan? minInterval = dict.TryGetInteger("min interval", out long minSeconds) ? Seconds("min interval", minSeconds) : null;
            int? complete = dict.TryGetInteger("complete", out long c) ? Count("complete", c) : null;
            int? incomplete = dict.TryGetInteger("incomplete", out long i) ? Count("incomplete", i) : null;
            string? warning = dict.TryGetString("warning message", out BString? w) ? Text(w) : null;
            string? trackerId = dict.TryGetString("tracker id", out BString? id) ? Text(id) : null;
            IPAddress? external = null;
            if (dict.TryGetString("external ip", out BString? ext) && ext.Length is 4 or 16)
            {
                external = new IPAddress(ext.Bytes.Span);
            }

            var peers = new List<IPEndPoint>();
            if (dict.TryGetValue("peers", out BValue? list))
            {
                switch (list)
                {
                    case BString compact:
                        CompactPeers.Parse(compact.Bytes.Span, ipv6: false, peers, maxPeers);
                        break;
                    case BList entries:
                        ParseDictionaryPeers(entries, peers, maxPeers);
                        break;
                    default:
                        throw new TrackerFormatException("'peers' is neither a byte string nor a list");
                }
            }
            if (dict.TryGetString("peers6", out BString? peers6))
            {
                CompactPeers.Parse(peers6.Bytes.Span, ipv6: true, peers, maxPeers);
            }
            return new AnnounceResponse(interval, minInterval, peers, complete, incomplete, warning, trackerId, external);
        }
        catch (BencodeException e)
        {
            throw new TrackerFormatException($"tracker answer: {e.Message}", e);
        }
    }

    /// <summary>
    /// Parses a scrape answer: <c>files</c> maps 20-byte info-hashes to <c>complete</c>/<c>downloaded</c>/
    /// <c>incomplete</c>. Returns null and sets <paramref name="failureReason"/> when the tracker refused.
    /// </summary>
    /// <exception cref="TrackerFormatException">The answer is malformed.</exception>
    public static ScrapeResponse? ParseScrape(ReadOnlyMemory<byte> body, out string? failureReason)
    {
        BDictionary dict = DecodeDictionary(body);
        failureReason = null;
        try
        {
            if (dict.TryGetString("failure reason", out BString? failure))
            {
                failureReason = Text(failure);
                return null;
            }
            var files = new Dictionary<InfoHash, ScrapeEntry>();
            if (dict.TryGetDictionary("files", out BDictionary? entries))
            {
                foreach (KeyValuePair<BString, BValue> entry in entries)
                {
                    if (entry.Key.Length != InfoHash.Length) throw new TrackerFormatException($"scrape key of {entry.Key.Length} bytes is not an info-hash");
                    if (entry.Value is not BDictionary counts) throw new TrackerFormatException("scrape entry is not a dictionary");
                    files[new InfoHash(entry.Key.Bytes.Span)] = new ScrapeEntry(
                        Optional(counts, "complete"), Optional(counts, "downloaded"), Optional(counts, "incomplete"));
                }
            }
            return new ScrapeResponse(files);
        }
        catch (BencodeException e)
        {
            throw new TrackerFormatException($"scrape answer: {e.Message}", e);
        }
    }

    private static BDictionary DecodeDictionary(ReadOnlyMemory<byte> body)
    {
        BValue value;
        try
        {
            // Prefix decoding: some trackers append a newline after the dictionary.
            value = Bencode.DecodePrefix(body, out _, Limits);
        }
        catch (BencodeException e)
        {
            throw new TrackerFormatException($"tracker answer is not bencode: {e.Message}", e);
        }
        return value as BDictionary ?? throw new TrackerFormatException("tracker answer is not a bencoded dictionary");
    }

    private static void ParseDictionaryPeers(BList entries, List<IPEndPoint> peers, int max)
    {
        foreach (BValue item in entries)
        {
            if (peers.Count >= max) break;
            if (item is not BDictionary peer) throw new TrackerFormatException("an entry of 'peers' is not a dictionary");
            if (!peer.TryGetString("ip", out BString? ip) || !peer.TryGetInteger("port", out long port)) continue;
            if (port is <= 0 or > 65535) continue;
            if (!ip.TryGetText(out string? text) || !IPAddress.TryParse(text, out IPAddress? address)) continue; // hostnames are not resolved here
            peers.Add(new IPEndPoint(address, (int)port));
        }
    }

    private static long Optional(BDictionary dict, string key) =>
        dict.TryGetInteger(key, out long value) ? Math.Max(0, value) : 0;

    private static TimeSpan Seconds(string key, long seconds) =>
        seconds is >= 0 and <= int.MaxValue ? TimeSpan.FromSeconds(seconds) : throw new TrackerFormatException($"'{key}' of {seconds} seconds is out of range");

    private static int Count(string key, long value) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw new TrackerFormatException($"'{key}' of {value} is out of range");

    private static string Text(BString value)
    {
        // A tracker's message is shown to the user: keep it short and printable whatever bytes it holds.
        string text = value.TryGetText(out string? utf8) ? utf8 : System.Text.Encoding.Latin1.GetString(value.Bytes.Span);
        if (text.Length > 500) text = text[..500] + "...";
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = char.IsControl(source[i]) ? ' ' : source[i];
        });
    }
}
