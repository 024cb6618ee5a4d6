using System.Buffers;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>
/// A parsed .torrent: BEP 3 (v1), BEP 52 (v2) or both (hybrid), read the way libtorrent 2.0 reads it so that
/// Shoal opens every torrent libtorrent opens and refuses what libtorrent refuses.
/// </summary>
/// <remarks>
/// <para><b>Lenient where libtorrent is.</b> The bencode may have keys out of order or repeated (the first value
/// wins), leading zeros, and bytes after the torrent's dictionary; the info-hash is always the hash of the info
/// dictionary's bytes exactly as received (BEP 52 forbids a decode-encode round trip), and a v2 info dictionary
/// must be canonical. File and folder names are sanitised, never refused (<see cref="TorrentFile.PathSegments"/>):
/// '..' and '.' are dropped, separators and bidirectional marks removed, invalid UTF-8 and control characters
/// become '_', names are cut to 250 bytes keeping the extension, a name that cleans to nothing becomes the
/// info-hash, and two files on one path (compared case-insensitively) are told apart as "bar.txt", "bar.1.txt".
/// Nothing in a torrent can name a place outside the download folder.</para>
/// <para><b>Strict where it matters.</b> The structure is checked as libtorrent checks it (see
/// <see cref="TorrentInfoReader"/>): one clear <see cref="MetainfoException"/> for each kind of broken torrent.
/// The optional fields outside the info dictionary (trackers, web seeds, comment, dates) are read leniently,
/// skipping entries of the wrong type; unknown keys are kept (<see cref="ToBytes"/> writes them back).</para>
/// </remarks>
public sealed partial class Torrent
{
    /// <summary>Largest .torrent accepted, in bytes.</summary>
    public const int MaxTorrentBytes = 128 * 1024 * 1024;

    /// <summary>Most pieces accepted (4 Mi pieces = 80 MiB of SHA-1 hashes).</summary>
    public const int MaxPieceCount = 4 * 1024 * 1024;

    /// <summary>Most files accepted, padding files included (the decoder's item limit usually binds first, as libtorrent's token limit does).</summary>
    public const int MaxFileCount = 1_000_000;

    /// <summary>Smallest piece length of a v2 or hybrid torrent, and the smallest Shoal creates (v1 torrents may use any positive length).</summary>
    public const int MinPieceLength = 16 * 1024;

    /// <summary>
    /// Largest piece length accepted: 32,767 blocks of 16 KiB (just under 512 MiB), the most libtorrent downloads
    /// (its file parser allows up to 1 GiB, then it refuses to add such a torrent). v1 piece lengths need not be
    /// powers of two; the largest power of two accepted is 256 MiB.
    /// </summary>
    public const int MaxPieceLength = 32_767 * 16 * 1024;

    /// <summary>Largest file accepted: libtorrent's limit (2^30 - 1 blocks of 16 KiB, about 16 TiB).</summary>
    public const long MaxFileSize = ((long)(int.MaxValue / 2) * 16 * 1024) - 1;

    /// <summary>Largest total size accepted: 2^48 - 1 bytes (256 TiB), libtorrent's limit.</summary>
    public const long MaxTotalSize = (1L << 48) - 1;

    private const int HashLength = 20;

    private static BencodeLimits DecodeLimits => new()
    {
        MaxDepth = FileTreeReader.MaxDepth, // libtorrent's decode depth; a BEP 52 file tree nests once per folder
        MaxInputLength = MaxTorrentBytes,
        MaxItems = 4_000_000,
    };

    // The .torrent's bytes, not its parsed tree: a session of thousands of torrents would keep a dozen small objects
    // per torrent alive for ToBytes alone, which parses them again (they parsed once, so they parse again).
    private readonly ReadOnlyMemory<byte> _rootBytes;
    private readonly TorrentFile[] _files;
    private readonly long[] _fileOffsets;
    private readonly IReadOnlyList<IReadOnlyList<string>> _tiers;
    private readonly ReadOnlyMemory<byte>[] _pieceLayers;

    private Torrent(BDictionary? root, BDictionary info)
    {
        _rootBytes = root?.SourceBytes ?? ReadOnlyMemory<byte>.Empty;
        InfoDictionary = info.SourceBytes;
        TorrentInfoParts parts = TorrentInfoReader.Read(info);
        Version = parts.Version;
        InfoHashV1 = parts.InfoHashV1;
        InfoHashV2 = parts.InfoHashV2;
        // The wire hash: v1 when there is one (a hybrid is reached through either), else the truncated v2 hash.
        InfoHash = parts.InfoHashV1 ?? parts.InfoHashV2!.Value.Truncate();
        Name = parts.Name;
        IsMultiFile = parts.IsMultiFile;
        PieceLength = parts.PieceLength;
        PieceCount = parts.PieceCount;
        TotalSize = parts.TotalSize;
        PieceHashes = parts.PieceHashes;
        IsPrivate = parts.IsPrivate;

        _files = new TorrentFile[parts.Files.Count];
        _fileOffsets = new long[parts.Files.Count];
        long offset = 0;
        for (int i = 0; i < _files.Length; i++)
        {
            ParsedFile f = parts.Files[i];
            _files[i] = new TorrentFile(f.Segments.ToArray(), f.Length, offset, f.IsPadding)
            {
                Attributes = f.Attributes,
                SymlinkTarget = f.SymlinkTarget?.ToArray(),
                PiecesRoot = f.PiecesRoot,
                WasRenamed = f.Renamed,
            };
            _fileOffsets[i] = offset;
            offset += f.Length;
        }

        _tiers = root is null ? [] : TorrentRootFields.ReadTiers(root);
        _pieceLayers = root is null || InfoHashV2 is null ? new ReadOnlyMemory<byte>[_files.Length] : TorrentRootFields.ReadPieceLayers(root, _files, PieceLength);
        if (root is not null)
        {
            Comment = TorrentRootFields.ReadText(root, "comment");
            CreatedBy = TorrentRootFields.ReadText(root, "created by");
            CreationDate = TorrentRootFields.ReadDate(root);
            WebSeeds = TorrentRootFields.ReadSeeds(root, "url-list", folderUrls: IsMultiFile && _files.Length > 1);
            HttpSeeds = TorrentRootFields.ReadSeeds(root, "httpseeds", folderUrls: false);
        }
    }

    /// <summary>
    /// Parses a .torrent file's bytes. Bytes after the torrent's dictionary are ignored (as libtorrent ignores them).
    /// Throws <see cref="MetainfoException"/> on malformed or hostile content.
    /// </summary>
    public static Torrent Parse(ReadOnlyMemory<byte> data)
    {
        if (data.Length > MaxTorrentBytes)
            throw new MetainfoException($"torrent is {data.Length} bytes, more than the limit of {MaxTorrentBytes}");
        // Own copy: the values slice it, and the caller may reuse its buffer.
        BValue root = Decode(data.ToArray(), "torrent", out _);
        if (root is not BDictionary dict) throw new MetainfoException($"a torrent must be a dictionary, not {BDictionary.KindOf(root)}");
        try
        {
            if (!dict.TryGetValue("info", out BValue? info)) throw new MetainfoException("torrent has no 'info' dictionary");
            if (info is not BDictionary infoDict) throw new MetainfoException($"'info' must be a dictionary, not {BDictionary.KindOf(info)}");
            return new Torrent(dict, infoDict);
        }
        catch (BencodeException e)
        {
            throw new MetainfoException(e.Message, e);
        }
    }

    /// <summary>
    /// Builds the torrent from a bencoded info dictionary alone (BEP 9 metadata): no trackers, and for v2 no piece
    /// layers (they come from peers). The bytes must be exactly one dictionary.
    /// </summary>
    public static Torrent FromInfoDictionary(ReadOnlyMemory<byte> infoDictionary)
    {
        if (infoDictionary.Length > MaxTorrentBytes)
            throw new MetainfoException($"info dictionary is {infoDictionary.Length} bytes, more than the limit of {MaxTorrentBytes}");
        BValue info = Decode(infoDictionary.ToArray(), "info dictionary", out int consumed);
        if (info is not BDictionary infoDict) throw new MetainfoException($"the info dictionary must be a dictionary, not {BDictionary.KindOf(info)}");
        if (consumed != infoDictionary.Length)
            throw new MetainfoException($"the info dictionary is followed by {infoDictionary.Length - consumed} more bytes");
        try
        {
            return new Torrent(null, infoDict);
        }
        catch (BencodeException e)
        {
            throw new MetainfoException(e.Message, e);
        }
    }

    /// <summary>Reads and parses a .torrent file. Throws <see cref="MetainfoException"/> naming the file when it is unreadable or malformed.</summary>
    public static Torrent Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (stream.Length > MaxTorrentBytes)
                throw new MetainfoException($"'{path}' is {stream.Length} bytes, more than the limit of {MaxTorrentBytes} for a torrent");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new MetainfoException($"cannot read torrent file '{path}': {e.Message}", e);
        }
        try
        {
            return Parse(bytes);
        }
        catch (MetainfoException e)
        {
            throw new MetainfoException($"'{path}' is not a valid torrent: {e.Message}", e);
        }
    }

    /// <summary>
    /// The 20-byte info-hash used on the wire, by trackers and the DHT: the v1 (SHA-1) hash when the torrent has
    /// one (v1 and hybrid), else the v2 (SHA-256) hash truncated to 20 bytes (BEP 52).
    /// </summary>
    public InfoHash InfoHash { get; }

    /// <summary>The v1 info-hash (SHA-1 of the info dictionary); null for a v2-only torrent.</summary>
    public InfoHash? InfoHashV1 { get; }

    /// <summary>The v2 info-hash (SHA-256 of the info dictionary); null for a v1-only torrent.</summary>
    public Sha256Hash? InfoHashV2 { get; }

    /// <summary>v1, v2 or hybrid.</summary>
    public TorrentVersion Version { get; }

    /// <summary>True when the torrent has v1 metadata (SHA-1 piece hashes): v1 and hybrid torrents.</summary>
    public bool HasV1 => InfoHashV1 is not null;

    /// <summary>True when the torrent has v2 metadata (per-file merkle roots): v2 and hybrid torrents.</summary>
    public bool HasV2 => InfoHashV2 is not null;

    /// <summary>Suggested name, sanitised: the file name (single-file) or the top folder name (multi-file).</summary>
    public string Name { get; }

    /// <summary>True when the files sit in a folder named <see cref="Name"/> (a v1 'files' list, or a v2 tree that is not one lone file).</summary>
    public bool IsMultiFile { get; }

    /// <summary>Bytes of content, padding files included.</summary>
    public long TotalSize { get; }

    /// <summary>Nominal piece length in bytes (a power of two of at least 16 KiB for v2; any positive length for v1).</summary>
    public int PieceLength { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Files in torrent order; their byte ranges tile [0, TotalSize). v2 layouts include the implied padding files.</summary>
    public IReadOnlyList<TorrentFile> Files => _files;

    /// <summary>The concatenated 20-byte SHA-1 piece hashes (v1); empty for a v2-only torrent.</summary>
    public ReadOnlyMemory<byte> PieceHashes { get; }

    /// <summary>Announce URLs grouped in tiers (BEP 12); a lone 'announce' is one tier of one.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers => _tiers;

    /// <summary>
    /// BEP 19 web seeds ('url-list'), each once, in order. For a torrent of several files each URL names the folder
    /// holding the torrent's folder and ends with '/'.
    /// </summary>
    public IReadOnlyList<string> WebSeeds { get; } = [];

    /// <summary>BEP 17 HTTP seeds ('httpseeds'), each once, in order.</summary>
    public IReadOnlyList<string> HttpSeeds { get; } = [];

    /// <summary>The 'private' flag (BEP 27).</summary>
    public bool IsPrivate { get; }

    /// <summary>The 'comment' field.</summary>
    public string? Comment { get; }

    /// <summary>The 'created by' field.</summary>
    public string? CreatedBy { get; }

    /// <summary>The 'creation date' field.</summary>
    public DateTimeOffset? CreationDate { get; }

    /// <summary>The exact bytes of the info dictionary (what the info-hashes hash; served by BEP 9).</summary>
    public ReadOnlyMemory<byte> InfoDictionary { get; }

    /// <summary>The 20-byte SHA-1 hash of one piece (v1 and hybrid torrents).</summary>
    /// <exception cref="InvalidOperationException">The torrent is v2-only and has no SHA-1 hashes.</exception>
    public ReadOnlySpan<byte> GetPieceHash(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        if (!HasV1) throw new InvalidOperationException("a v2-only torrent has no SHA-1 piece hashes");
        return PieceHashes.Span.Slice(piece * HashLength, HashLength);
    }

    /// <summary>Length of one piece (the last one may be shorter).</summary>
    public int GetPieceSize(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        return piece < PieceCount - 1 ? PieceLength : (int)(TotalSize - ((long)piece * PieceLength));
    }

    /// <summary>The whole .torrent file, bencoded (keys sorted; the info dictionary byte for byte as received).</summary>
    public byte[] ToBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(InfoDictionary.Length + 1024);
        var writer = new BencodeWriter(buffer);
        writer.WriteDictionaryStart();
        if (_rootBytes.IsEmpty)
        {
            writer.WriteString("info"u8);
            writer.WriteRaw(InfoDictionary.Span);
        }
        else
        {
            var root = (BDictionary)Decode(_rootBytes, "torrent", out _);
            foreach (KeyValuePair<BString, BValue> entry in root)
            {
                writer.WriteString(entry.Key.Bytes.Span);
                // The info dictionary goes out byte for byte so the info-hash cannot change.
                if (entry.Key.Bytes.Span.SequenceEqual("info"u8)) writer.WriteRaw(InfoDictionary.Span);
                else writer.WriteValue(entry.Value);
            }
        }
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A magnet link with this torrent's info-hashes (btih and/or btmh), name and trackers.</summary>
    public MagnetLink ToMagnetLink()
    {
        var trackers = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (IReadOnlyList<string> tier in _tiers)
        {
            foreach (string url in tier)
            {
                if (seen.Add(url)) trackers.Add(url);
            }
        }
        return new MagnetLink(InfoHash, Name, trackers, [], []) { InfoHashV2 = InfoHashV2 };
    }

    private static BValue Decode(ReadOnlyMemory<byte> data, string what, out int consumed)
    {
        try
        {
            return Bencode.DecodeLenient(data, out consumed, DecodeLimits);
        }
        catch (BencodeException e)
        {
            throw new MetainfoException($"{what} is not valid bencode: {e.Message}", e);
        }
    }
}
