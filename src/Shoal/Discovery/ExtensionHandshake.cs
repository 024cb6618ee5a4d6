using System.Buffers;
using System.Collections.Frozen;
using System.Net;
using System.Text;
using System.Text.Unicode;
using Shoal.Bencoding;

namespace Shoal.Discovery;

/// <summary>
/// The BEP 10 extension handshake (extended message id 0): which extension messages the sender understands
/// and under which ids, plus optional facts about the sender. Every field is optional on the wire.
/// </summary>
/// <remarks>
/// <see cref="Parse"/> is strict about the bencoding itself (malformed input throws
/// <see cref="ExtensionMessageException"/>) and lenient about content: unknown keys, optional keys with the
/// wrong type or an out-of-range value, and "m" entries over the bounds are ignored, as BEP 10 asks.
/// </remarks>
public sealed record ExtensionHandshake
{
    /// <summary>Largest handshake payload accepted, in bytes (real ones are a few hundred).</summary>
    public const int MaxPayloadLength = 64 * 1024;

    /// <summary>Most "m" entries kept; later ones are ignored.</summary>
    public const int MaxExtensions = 64;

    /// <summary>Longest extension name kept, in bytes; longer names are ignored.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Longest client version ("v") kept, in bytes; a longer one is ignored.</summary>
    public const int MaxClientVersionLength = 256;

    private static readonly BencodeLimits Limits = new() { MaxDepth = 16, MaxItems = 4096, MaxInputLength = MaxPayloadLength };

    /// <summary>
    /// The "m" dictionary: extension name to the id the sender wants to receive that message under.
    /// Id 0 means the extension is disabled (meaningful in a later handshake that turns one off).
    /// </summary>
    public IReadOnlyDictionary<string, byte> Extensions { get; init; } = FrozenDictionary<string, byte>.Empty;

    /// <summary>"p": the sender's listen port (1..65535), when given.</summary>
    public int? ListenPort { get; init; }

    /// <summary>"v": the sender's client name and version, when given as UTF-8.</summary>
    public string? ClientVersion { get; init; }

    /// <summary>"yourip": the address the sender sees us at (IPv4 or IPv6).</summary>
    public IPAddress? YourIp { get; init; }

    /// <summary>"ipv4": the sender's own IPv4 address.</summary>
    public IPAddress? Ipv4 { get; init; }

    /// <summary>"ipv6": the sender's own IPv6 address.</summary>
    public IPAddress? Ipv6 { get; init; }

    /// <summary>"reqq": how many outstanding requests the sender accepts (positive), when given.</summary>
    public int? RequestQueue { get; init; }

    /// <summary>"metadata_size" (BEP 9): size of the info dictionary in bytes (positive), when given.</summary>
    public int? MetadataSize { get; init; }

    /// <summary>"upload_only" (BEP 21): the sender only uploads (a seed or partial seed).</summary>
    public bool UploadOnly { get; init; }

    /// <summary>"e": the sender prefers encrypted connections (feeds the PEX flag).</summary>
    public bool PrefersEncryption { get; init; }

    /// <summary>The id the sender wants for <paramref name="name"/>, or 0 when it does not support it.</summary>
    public byte GetId(string name) => Extensions.TryGetValue(name, out byte id) ? id : (byte)0;

    /// <summary>True when the sender supports <paramref name="name"/> (a non-zero id).</summary>
    public bool Supports(string name) => GetId(name) != 0;

    /// <summary>
    /// Shoal's own handshake: ut_metadata and ut_pex under <see cref="ExtensionIds"/>, plus the given facts.
    /// </summary>
    public static ExtensionHandshake CreateLocal(int? listenPort, string? clientVersion, int? metadataSize, IPAddress? yourIp = null, int? requestQueue = null, bool uploadOnly = false) =>
        new()
        {
            Extensions = new Dictionary<string, byte>
            {
                [ExtensionIds.MetadataName] = ExtensionIds.Metadata,
                [ExtensionIds.PexName] = ExtensionIds.Pex,
            }.ToFrozenDictionary(StringComparer.Ordinal),
            ListenPort = listenPort,
            ClientVersion = clientVersion,
            MetadataSize = metadataSize,
            YourIp = yourIp,
            RequestQueue = requestQueue,
            UploadOnly = uploadOnly,
        };

    /// <summary>Parses a handshake payload (the bytes after the extended id).</summary>
    /// <exception cref="ExtensionMessageException">Not one bencoded dictionary, or over <see cref="MaxPayloadLength"/>.</exception>
    public static ExtensionHandshake Parse(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > MaxPayloadLength)
            throw new ExtensionMessageException($"extension handshake is {payload.Length} bytes, more than the limit of {MaxPayloadLength}");
        BValue root;
        try
        {
            root = Bencode.Decode(payload, Limits);
        }
        catch (BencodeException e)
        {
            throw new ExtensionMessageException("malformed extension handshake: " + e.Message, e);
        }
        if (root is not BDictionary dict)
            throw new ExtensionMessageException($"extension handshake must be a dictionary, not {BDictionary.KindOf(root)}");

        return new ExtensionHandshake
        {
            Extensions = ReadExtensions(dict),
            ListenPort = Integer(dict, "p") is long p and >= 1 and <= 65535 ? (int)p : null,
            ClientVersion = ReadVersion(dict),
            YourIp = Address(dict, "yourip", 4, 16),
            Ipv4 = Address(dict, "ipv4", 4, 4),
            Ipv6 = Address(dict, "ipv6", 16, 16),
            RequestQueue = Integer(dict, "reqq") is long q and >= 1 and <= int.MaxValue ? (int)q : null,
            MetadataSize = Integer(dict, "metadata_size") is long m and >= 1 and <= int.MaxValue ? (int)m : null,
            UploadOnly = Integer(dict, "upload_only") is long u && u != 0,
            PrefersEncryption = Integer(dict, "e") is long enc && enc != 0,
        };
    }

    /// <summary>
    /// The handshake after a later one from the same peer (BEP 10 allows resending): fields present in
    /// <paramref name="update"/> win, "m" entries are merged and an id of 0 removes the extension.
    /// </summary>
    public ExtensionHandshake MergeWith(ExtensionHandshake update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var merged = new Dictionary<string, byte>(Extensions, StringComparer.Ordinal);
        foreach (KeyValuePair<string, byte> entry in update.Extensions)
        {
            if (entry.Value == 0) merged.Remove(entry.Key);
            else if (merged.Count < MaxExtensions || merged.ContainsKey(entry.Key)) merged[entry.Key] = entry.Value;
        }
        return new ExtensionHandshake
        {
            Extensions = merged.ToFrozenDictionary(StringComparer.Ordinal),
            ListenPort = update.ListenPort ?? ListenPort,
            ClientVersion = update.ClientVersion ?? ClientVersion,
            YourIp = update.YourIp ?? YourIp,
            Ipv4 = update.Ipv4 ?? Ipv4,
            Ipv6 = update.Ipv6 ?? Ipv6,
            RequestQueue = update.RequestQueue ?? RequestQueue,
            MetadataSize = update.MetadataSize ?? MetadataSize,
            UploadOnly = update.UploadOnly,
            PrefersEncryption = update.PrefersEncryption,
        };
    }

    /// <summary>Encodes the handshake payload (canonical bencode; absent fields are left out).</summary>
    public byte[] Encode()
    {
        var m = new BDictionary();
        foreach (KeyValuePair<string, byte> entry in Extensions) m.Set(entry.Key, new BInteger(entry.Value));
        var dict = new BDictionary();
        dict.Set("m", m);
        if (PrefersEncryption) dict.Set("e", new BInteger(1));
        if (ListenPort is int p) dict.Set("p", new BInteger(p));
        if (ClientVersion is not null) dict.Set("v", new BString(ClientVersion));
        if (YourIp is not null) dict.Set("yourip", new BString(YourIp.GetAddressBytes()));
        if (Ipv4 is not null) dict.Set("ipv4", new BString(Ipv4.GetAddressBytes()));
        if (Ipv6 is not null) dict.Set("ipv6", new BString(Ipv6.GetAddressBytes()));
        if (RequestQueue is int q) dict.Set("reqq", new BInteger(q));
        if (MetadataSize is int size) dict.Set("metadata_size", new BInteger(size));
        if (UploadOnly) dict.Set("upload_only", new BInteger(1));
        return Bencode.Encode(dict);
    }

    private static FrozenDictionary<string, byte> ReadExtensions(BDictionary dict)
    {
        if (!dict.TryGetValue("m"u8, out BValue? value) || value is not BDictionary m || m.Count == 0)
            return FrozenDictionary<string, byte>.Empty;
        var result = new Dictionary<string, byte>(Math.Min(m.Count, MaxExtensions), StringComparer.Ordinal);
        foreach (KeyValuePair<BString, BValue> entry in m)
        {
            if (result.Count == MaxExtensions) break;
            ReadOnlySpan<byte> name = entry.Key.Bytes.Span;
            if (name.Length == 0 || name.Length > MaxNameLength || !Utf8.IsValid(name)) continue;
            if (entry.Value is not BInteger id || id.Value is < 0 or > 255) continue;
            result[Encoding.UTF8.GetString(name)] = (byte)id.Value;
        }
        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string? ReadVersion(BDictionary dict)
    {
        if (!dict.TryGetValue("v"u8, out BValue? value) || value is not BString s) return null;
        if (s.Length > MaxClientVersionLength) return null;
        return s.TryGetText(out string? text) ? text : null;
    }

    private static long? Integer(BDictionary dict, string key) =>
        dict.TryGetValue(key, out BValue? value) && value is BInteger i ? i.Value : null;

    private static IPAddress? Address(BDictionary dict, string key, int minLength, int maxLength)
    {
        if (!dict.TryGetValue(key, out BValue? value) || value is not BString s) return null;
        int length = s.Length;
        if ((length != minLength && length != maxLength) || (length != 4 && length != 16)) return null;
        return new IPAddress(s.Bytes.Span);
    }
}
