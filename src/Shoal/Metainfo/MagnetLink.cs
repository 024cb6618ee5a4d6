using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Shoal.Metainfo;

/// <summary>
/// A magnet link (BEP 9, BEP 52): info-hash(es) plus optional name, trackers, peers and file selection. A v1 link
/// has xt=urn:btih:, a v2 link xt=urn:btmh:1220 followed by the SHA-256 info-hash in hex, a hybrid link both.
/// </summary>
/// <param name="InfoHash">
/// The 20-byte hash used on the wire: from xt=urn:btih: (40 hex or 32 base32 characters), or for a v2-only link
/// the v2 hash truncated to 20 bytes.
/// </param>
/// <param name="DisplayName">dn=</param>
/// <param name="Trackers">Every tr= in order.</param>
/// <param name="Peers">Every x.pe= as written (host:port, [v6]:port).</param>
/// <param name="SelectedFiles">BEP 53 so= indices expanded from lists and ranges; empty means all.</param>
/// <remarks>
/// Equality compares the lists by content, so <c>MagnetLink.Parse(link.ToString()) == link</c>.
/// Parsing keeps so= indices sorted and distinct; <c>+</c> decodes to a space as in form-encoded queries.
/// </remarks>
public sealed record MagnetLink(
    InfoHash InfoHash,
    string? DisplayName,
    IReadOnlyList<string> Trackers,
    IReadOnlyList<string> Peers,
    IReadOnlyList<int> SelectedFiles)
{
    /// <summary>Longest magnet URI accepted, in characters.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Most query parameters accepted.</summary>
    public const int MaxParameters = 1_000;

    /// <summary>Most file indices a so= parameter may select once ranges are expanded.</summary>
    public const int MaxSelectedFiles = 100_000;

    private const string Prefix = "magnet:?";
    private const string BtihPrefix = "urn:btih:";
    private const string BtmhPrefix = "urn:btmh:";

    /// <summary>Multihash prefix of a SHA-256 digest: code 0x12, length 0x20.</summary>
    private const string Sha256Multihash = "1220";

    /// <summary>The v2 info-hash (from xt=urn:btmh:1220...); null for a v1-only link.</summary>
    public Sha256Hash? InfoHashV2 { get; init; }

    /// <summary>Every ws= in order: web seeds (BEP 19 URLs), as libtorrent reads them from a magnet link.</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>True when the link names only a v2 info-hash: <see cref="InfoHash"/> is then its truncation, not a SHA-1.</summary>
    public bool IsV2Only => InfoHashV2 is { } v2 && v2.Truncate() == InfoHash;

    /// <summary>Parses a magnet URI. Throws <see cref="MetainfoException"/> saying what is wrong.</summary>
    public static MagnetLink Parse(string uri)
    {
        if (string.IsNullOrEmpty(uri)) throw new MetainfoException("magnet link is empty");
        if (uri.Length > MaxLength) throw new MetainfoException($"magnet link is {uri.Length} characters, more than the limit of {MaxLength}");
        if (!uri.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            throw new MetainfoException("a magnet link starts with 'magnet:?'");

        InfoHash? infoHash = null;
        Sha256Hash? infoHashV2 = null;
        string? displayName = null;
        var trackers = new List<string>();
        var peers = new List<string>();
        var webSeeds = new List<string>();
        var selected = new SortedSet<int>();
        int count = 0;

        foreach (string part in uri[Prefix.Length..].Split('&'))
        {
            if (part.Length == 0) continue;
            if (++count > MaxParameters) throw new MetainfoException($"magnet link has more than {MaxParameters} parameters");
            int eq = part.IndexOf('=');
            string name = PercentDecode(eq < 0 ? part : part[..eq], "parameter name");
            string value = eq < 0 ? "" : PercentDecode(part[(eq + 1)..], name);
            switch (name)
            {
                case "xt":
                    if (value.StartsWith(BtihPrefix, StringComparison.OrdinalIgnoreCase))
                    {
                        string text = value[BtihPrefix.Length..];
                        if (!InfoHash.TryParse(text, out InfoHash parsed))
                            throw new MetainfoException($"xt=urn:btih: needs 40 hex or 32 base32 characters, not '{Shorten(text)}'");
                        if (infoHash is { } earlier && earlier != parsed)
                            throw new MetainfoException("magnet link has two different urn:btih: info-hashes");
                        infoHash = parsed;
                    }
                    else if (value.StartsWith(BtmhPrefix, StringComparison.OrdinalIgnoreCase))
                    {
                        string text = value[BtmhPrefix.Length..];
                        if (!text.StartsWith(Sha256Multihash, StringComparison.Ordinal) || !Sha256Hash.TryParse(text[Sha256Multihash.Length..], out Sha256Hash parsed))
                            throw new MetainfoException($"xt=urn:btmh: needs '1220' and 64 hex characters (a SHA-256 multihash), not '{Shorten(text)}'");
                        if (infoHashV2 is { } earlier && earlier != parsed)
                            throw new MetainfoException("magnet link has two different urn:btmh: info-hashes");
                        infoHashV2 = parsed;
                    }
                    break;
                case "dn":
                    displayName ??= value;
                    break;
                case "tr":
                    if (value.Length > 0) trackers.Add(value);
                    break;
                case "x.pe":
                    if (value.Length > 0) peers.Add(value);
                    break;
                case "ws":
                    if (value.Length > 0 && !webSeeds.Contains(value)) webSeeds.Add(value);
                    break;
                case "so":
                    ParseSelection(value, selected);
                    break;
            }
        }

        InfoHash wire = infoHash ?? infoHashV2?.Truncate()
            ?? throw new MetainfoException("magnet link has no xt=urn:btih: or xt=urn:btmh: info-hash");
        return new MagnetLink(wire, displayName, trackers, peers, [.. selected]) { InfoHashV2 = infoHashV2, WebSeeds = webSeeds };
    }

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string uri, out MagnetLink? link)
    {
        try
        {
            link = Parse(uri);
            return true;
        }
        catch (MetainfoException)
        {
            link = null;
            return false;
        }
    }

    /// <summary>The canonical URI: xt (btih, then btmh) with lower-case hex, then dn, tr, x.pe, ws, so, percent-encoded.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Prefix);
        if (!IsV2Only) sb.Append("xt=").Append(BtihPrefix).Append(InfoHash.ToHex());
        if (InfoHashV2 is { } v2)
        {
            if (!IsV2Only) sb.Append('&');
            sb.Append("xt=").Append(BtmhPrefix).Append(Sha256Multihash).Append(v2.ToHex());
        }
        if (DisplayName is not null) AppendParameter(sb, "dn", DisplayName);
        foreach (string tracker in Trackers) AppendParameter(sb, "tr", tracker);
        foreach (string peer in Peers) AppendParameter(sb, "x.pe", peer);
        foreach (string webSeed in WebSeeds) AppendParameter(sb, "ws", webSeed);
        if (SelectedFiles.Count > 0) sb.Append("&so=").Append(FormatSelection(SelectedFiles));
        return sb.ToString();
    }

    /// <summary>Equal when every field, list contents included, is equal.</summary>
    public bool Equals(MagnetLink? other) =>
        other is not null
        && InfoHash == other.InfoHash
        && InfoHashV2 == other.InfoHashV2
        && DisplayName == other.DisplayName
        && Trackers.SequenceEqual(other.Trackers)
        && Peers.SequenceEqual(other.Peers)
        && WebSeeds.SequenceEqual(other.WebSeeds)
        && SelectedFiles.SequenceEqual(other.SelectedFiles);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(InfoHash, DisplayName, Trackers.Count, Peers.Count, SelectedFiles.Count);

    private static void ParseSelection(string value, SortedSet<int> selected)
    {
        foreach (string item in value.Split(','))
        {
            if (item.Length == 0) continue;
            int dash = item.IndexOf('-');
            int first = ParseIndex(dash < 0 ? item : item[..dash], item);
            int last = dash < 0 ? first : ParseIndex(item[(dash + 1)..], item);
            if (last < first) throw new MetainfoException($"so= range '{Shorten(item)}' ends before it starts");
            if ((long)last - first + 1 > MaxSelectedFiles - selected.Count)
                throw new MetainfoException($"so= selects more than {MaxSelectedFiles} files");
            for (int i = first; i <= last; i++) selected.Add(i);
        }
    }

    private static int ParseIndex(string text, string item)
    {
        if (text.Length == 0 || text.Length > 9 || !text.All(char.IsAsciiDigit))
            throw new MetainfoException($"so= item '{Shorten(item)}' is not a file index or a range like 4-6");
        return int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static string FormatSelection(IReadOnlyList<int> indices)
    {
        int[] sorted = [.. indices.Distinct().Order()];
        var sb = new StringBuilder();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            if (sb.Length > 0) sb.Append(',');
            sb.Append(sorted[i].ToString(CultureInfo.InvariantCulture));
            if (j > i) sb.Append('-').Append(sorted[j].ToString(CultureInfo.InvariantCulture));
            i = j + 1;
        }
        return sb.ToString();
    }

    private static void AppendParameter(StringBuilder sb, string name, string value)
    {
        sb.Append('&').Append(name).Append('=');
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
    }

    private static string PercentDecode(string text, string what)
    {
        // No shortcut for text without escapes: a lone surrogate must fail here, not turn into U+FFFD on output.
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                    throw new MetainfoException($"magnet {what} has a bad percent escape at character {i}");
                bytes.Add((byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2])));
                i += 2;
            }
            else if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                    throw new MetainfoException($"magnet {what} has an unpaired surrogate at character {i}");
                int n = Encoding.UTF8.GetBytes(text.AsSpan(i, 2), utf8);
                for (int k = 0; k < n; k++) bytes.Add(utf8[k]);
                i++;
            }
            else
            {
                int n = Encoding.UTF8.GetBytes(text.AsSpan(i, 1), utf8);
                for (int k = 0; k < n; k++) bytes.Add(utf8[k]);
            }
        }
        byte[] array = [.. bytes];
        if (!Utf8.IsValid(array)) throw new MetainfoException($"magnet {what} is not valid UTF-8 once percent-decoded");
        return Encoding.UTF8.GetString(array);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string Shorten(string text) => TorrentPathRules.Printable(text);
}
