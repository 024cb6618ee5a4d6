using System.Buffers;
using System.Text;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>
/// A parsed .torrent (BEP 3, v1). Shaped for BEP 52: the version and per-version hashes are separate
/// properties, so v2 and hybrid torrents add fields rather than change these.
/// </summary>
/// <remarks>
/// The info dictionary is validated strictly (a bad name, path, length or piece table is an error); the
/// optional fields outside it (trackers, comment, dates) are read leniently, skipping entries of the wrong
/// type or with invalid UTF-8, as other clients do. Unknown keys are kept: the info-hash covers the raw bytes.
/// </remarks>
public sealed class Torrent
{
    /// <summary>Largest .torrent accepted, in bytes.</summary>
    public const int MaxTorrentBytes = 128 * 1024 * 1024;

    /// <summary>Most pieces accepted (4 Mi pieces = 80 MiB of SHA-1 hashes).</summary>
    public const int MaxPieceCount = 4 * 1024 * 1024;

    /// <summary>Most files accepted, padding files included.</summary>
    public const int MaxFileCount = 100_000;

    /// <summary>Smallest piece length accepted.</summary>
    public const int MinPieceLength = 16 * 1024;

    /// <summary>Largest piece length accepted.</summary>
    public const int MaxPieceLength = 256 * 1024 * 1024;

    private const int HashLength = 20;

    private static BencodeLimits DecodeLimits => new()
    {
        MaxDepth = 100, // room for a BEP 52 file tree, which nests once per path segment
        MaxInputLength = MaxTorrentBytes,
        MaxItems = 4_000_000,
    };

    private readonly BDictionary? _root;
    private readonly TorrentFile[] _files;
    private readonly IReadOnlyList<IReadOnlyList<string>> _tiers;

    private Torrent(BDictionary? root, BDictionary info)
    {
        _root = root;
        InfoDictionary = info.SourceBytes;
        InfoHash = InfoHash.ComputeV1(InfoDictionary.Span);

        Name = ReadName(info);

        long pieceLength = info.GetInteger("piece length");
        if (pieceLength < MinPieceLength || pieceLength > MaxPieceLength || (pieceLength & (pieceLength - 1)) != 0)
            throw new MetainfoException($"'piece length' {pieceLength} is not a power of two between {MinPieceLength} and {MaxPieceLength}");
        PieceLength = (int)pieceLength;

        bool hasLength = info.TryGetValue("length", out _);
        bool hasFiles = info.TryGetValue("files", out _);
        if (hasLength == hasFiles)
            throw new MetainfoException(hasLength ? "info has both 'length' and 'files'" : "info has neither 'length' nor 'files'");
        IsMultiFile = hasFiles;
        _files = hasFiles ? ReadFiles(info, Name) : [ReadSingleFile(info, Name)];
        TotalSize = _files.Length == 0 ? 0 : _files[^1].Offset + _files[^1].Length;
        if (TotalSize <= 0) throw new MetainfoException("the torrent holds no data (total size is 0)");

        BString pieces = info.GetString("pieces");
        if (pieces.Length % HashLength != 0)
            throw new MetainfoException($"'pieces' is {pieces.Length} bytes, not a multiple of {HashLength}");
        long expectedPieces = ((TotalSize - 1) / PieceLength) + 1;
        if (expectedPieces > MaxPieceCount)
            throw new MetainfoException($"{expectedPieces} pieces is more than the limit of {MaxPieceCount}");
        if (pieces.Length / HashLength != expectedPieces)
            throw new MetainfoException($"'pieces' holds {pieces.Length / HashLength} hashes but {TotalSize} bytes in pieces of {PieceLength} make {expectedPieces}");
        PieceCount = (int)expectedPieces;
        PieceHashes = pieces.Bytes;

        IsPrivate = info.TryGetInteger("private", out long isPrivate) && isPrivate != 0;

        _tiers = root is null ? [] : ReadTiers(root);
        if (root is not null)
        {
            Comment = ReadLenientText(root, "comment");
            CreatedBy = ReadLenientText(root, "created by");
            if (root.TryGetValue("creation date", out BValue? date) && date is BInteger seconds
                && seconds.Value >= DateTimeOffset.MinValue.ToUnixTimeSeconds() && seconds.Value <= DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            {
                CreationDate = DateTimeOffset.FromUnixTimeSeconds(seconds.Value);
            }
        }
    }

    /// <summary>Parses a .torrent file's bytes. Throws <see cref="MetainfoException"/> on any malformed or hostile content.</summary>
    public static Torrent Parse(ReadOnlyMemory<byte> data)
    {
        if (data.Length > MaxTorrentBytes)
            throw new MetainfoException($"torrent is {data.Length} bytes, more than the limit of {MaxTorrentBytes}");
        // Own copy: the values slice it, and the caller may reuse its buffer.
        BValue root = Decode(data.ToArray(), "torrent");
        if (root is not BDictionary dict) throw new MetainfoException($"a torrent must be a dictionary, not {Describe(root)}");
        try
        {
            if (!dict.TryGetValue("info", out BValue? info)) throw new MetainfoException("torrent has no 'info' dictionary");
            if (info is not BDictionary infoDict) throw new MetainfoException($"'info' must be a dictionary, not {Describe(info)}");
            return new Torrent(dict, infoDict);
        }
        catch (BencodeException e)
        {
            throw new MetainfoException(e.Message, e);
        }
    }

    /// <summary>Builds the torrent from a bencoded info dictionary alone (for BEP 9 metadata); no trackers.</summary>
    public static Torrent FromInfoDictionary(ReadOnlyMemory<byte> infoDictionary)
    {
        if (infoDictionary.Length > MaxTorrentBytes)
            throw new MetainfoException($"info dictionary is {infoDictionary.Length} bytes, more than the limit of {MaxTorrentBytes}");
        BValue info = Decode(infoDictionary.ToArray(), "info dictionary");
        if (info is not BDictionary infoDict) throw new MetainfoException($"the info dictionary must be a dictionary, not {Describe(info)}");
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

    /// <summary>The 20-byte info-hash used on the wire (SHA-1 of the info dictionary for v1).</summary>
    public InfoHash InfoHash { get; }

    /// <summary>Suggested name: the file name (single-file) or the top folder name (multi-file).</summary>
    public string Name { get; }

    /// <summary>True when the info dictionary has a 'files' list.</summary>
    public bool IsMultiFile { get; }

    /// <summary>Bytes of content, padding files included.</summary>
    public long TotalSize { get; }

    /// <summary>Nominal piece length in bytes (a power of two, at least 16 KiB).</summary>
    public int PieceLength { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Files in torrent order; their byte ranges tile [0, TotalSize).</summary>
    public IReadOnlyList<TorrentFile> Files => _files;

    /// <summary>The concatenated 20-byte SHA-1 piece hashes (v1).</summary>
    public ReadOnlyMemory<byte> PieceHashes { get; }

    /// <summary>Announce URLs grouped in tiers (BEP 12); a lone 'announce' is one tier of one.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers => _tiers;

    /// <summary>The 'private' flag (BEP 27).</summary>
    public bool IsPrivate { get; }

    /// <summary>The 'comment' field.</summary>
    public string? Comment { get; }

    /// <summary>The 'created by' field.</summary>
    public string? CreatedBy { get; }

    /// <summary>The 'creation date' field.</summary>
    public DateTimeOffset? CreationDate { get; }

    /// <summary>The exact bytes of the info dictionary (what the info-hash hashes; served by BEP 9).</summary>
    public ReadOnlyMemory<byte> InfoDictionary { get; }

    /// <summary>The 20-byte SHA-1 hash of one piece.</summary>
    public ReadOnlySpan<byte> GetPieceHash(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        return PieceHashes.Span.Slice(piece * HashLength, HashLength);
    }

    /// <summary>Length of one piece (the last one may be shorter).</summary>
    public int GetPieceSize(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        return piece < PieceCount - 1 ? PieceLength : (int)(TotalSize - ((long)piece * PieceLength));
    }

    /// <summary>The whole .torrent file, bencoded.</summary>
    public byte[] ToBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(InfoDictionary.Length + 1024);
        var writer = new BencodeWriter(buffer);
        writer.WriteDictionaryStart();
        if (_root is null)
        {
            writer.WriteString("info"u8);
            writer.WriteRaw(InfoDictionary.Span);
        }
        else
        {
            foreach (KeyValuePair<BString, BValue> entry in _root)
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

    /// <summary>A magnet link with this torrent's info-hash, name and trackers.</summary>
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
        return new MagnetLink(InfoHash, Name, trackers, [], []);
    }

    private static BValue Decode(byte[] data, string what)
    {
        try
        {
            return Bencode.Decode(data, DecodeLimits);
        }
        catch (BencodeException e)
        {
            throw new MetainfoException($"{what} is not valid bencode: {e.Message}", e);
        }
    }

    private static string Describe(BValue value) => value switch
    {
        BInteger => "an integer",
        BString => "a byte string",
        BList => "a list",
        _ => "a dictionary",
    };

    private static string ReadName(BDictionary info)
    {
        string name = ReadUtf8(info, "name.utf-8", "name") ?? throw new MetainfoException("info has no 'name'");
        TorrentPathRules.Validate(name, "name");
        return name;
    }

    /// <summary>The text under <paramref name="preferredKey"/> (BEP 3 ".utf-8" variant) if present, else under <paramref name="key"/>.</summary>
    private static string? ReadUtf8(BDictionary dict, string preferredKey, string key)
    {
        if (dict.TryGetString(preferredKey, out BString? preferred)) return Utf8Of(preferred, preferredKey);
        return dict.TryGetString(key, out BString? plain) ? Utf8Of(plain, key) : null;
    }

    private static string Utf8Of(BString value, string key) =>
        value.TryGetText(out string? text) ? text : throw new MetainfoException($"'{key}' is not valid UTF-8");

    private static TorrentFile ReadSingleFile(BDictionary info, string name)
    {
        long length = info.GetInteger("length");
        if (length < 0) throw new MetainfoException($"'length' is negative ({length})");
        return new TorrentFile([name], length, 0, false);
    }

    private static TorrentFile[] ReadFiles(BDictionary info, string name)
    {
        BList list = info.GetList("files");
        if (list.Count == 0) throw new MetainfoException("'files' is empty");
        if (list.Count > MaxFileCount) throw new MetainfoException($"{list.Count} files is more than the limit of {MaxFileCount}");

        var files = new TorrentFile[list.Count];
        var filePaths = new HashSet<string>(StringComparer.Ordinal);
        var folderPaths = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not BDictionary entry)
                throw new MetainfoException($"file #{i} must be a dictionary, not {Describe(list[i])}");
            long length = entry.GetInteger("length");
            if (length < 0) throw new MetainfoException($"file #{i} has a negative length ({length})");
            if (length > long.MaxValue - offset) throw new MetainfoException("file lengths add up to more than 2^63 bytes");

            bool isPadding = entry.TryGetString("attr", out BString? attr) && attr.Bytes.Span.Contains((byte)'p');
            string[] segments = ReadPath(entry, i, name);
            string joined = string.Join('/', segments);
            if (!isPadding)
            {
                // Two files on one path, or a file where another file needs a folder, would overwrite each
                // other on disk. Padding files are exempt: creators reuse names like ".pad/16384".
                if (!filePaths.Add(joined) || folderPaths.Contains(joined))
                    throw new MetainfoException($"file #{i} path '{TorrentPathRules.Printable(joined)}' collides with another file");
                for (int depth = segments.Length - 1; depth > 1; depth--)
                {
                    string folder = string.Join('/', segments, 0, depth);
                    if (filePaths.Contains(folder))
                        throw new MetainfoException($"file #{i} path '{TorrentPathRules.Printable(joined)}' needs a folder where a file is");
                    if (!folderPaths.Add(folder)) break;
                }
            }
            files[i] = new TorrentFile(segments, length, offset, isPadding);
            offset += length;
        }
        return files;
    }

    private static string[] ReadPath(BDictionary entry, int index, string name)
    {
        string key = entry.TryGetValue("path.utf-8", out _) ? "path.utf-8" : "path";
        if (!entry.TryGetList(key, out BList? path)) throw new MetainfoException($"file #{index} has no 'path'");
        if (path.Count == 0) throw new MetainfoException($"file #{index} has an empty '{key}'");
        if (path.Count > TorrentPathRules.MaxPathDepth)
            throw new MetainfoException($"file #{index} path has {path.Count} segments, more than the limit of {TorrentPathRules.MaxPathDepth}");
        var segments = new string[path.Count + 1];
        segments[0] = name;
        for (int j = 0; j < path.Count; j++)
        {
            if (path[j] is not BString segment)
                throw new MetainfoException($"file #{index} path segment {j} must be a byte string, not {Describe(path[j])}");
            string text = segment.TryGetText(out string? t) ? t : throw new MetainfoException($"file #{index} '{key}' is not valid UTF-8");
            TorrentPathRules.Validate(text, $"file #{index} path segment");
            segments[j + 1] = text;
        }
        return segments;
    }

    private static IReadOnlyList<IReadOnlyList<string>> ReadTiers(BDictionary root)
    {
        var tiers = new List<IReadOnlyList<string>>();
        if (root.TryGetValue("announce-list", out BValue? listValue) && listValue is BList list)
        {
            // BEP 12: when announce-list is present, announce is ignored.
            foreach (BValue tierValue in list)
            {
                if (tierValue is not BList tierList) continue;
                var tier = new List<string>();
                foreach (BValue urlValue in tierList)
                {
                    if (urlValue is BString url && url.Length > 0 && url.TryGetText(out string? text) && !tier.Contains(text))
                        tier.Add(text);
                }
                if (tier.Count > 0) tiers.Add(tier);
            }
        }
        if (tiers.Count == 0 && root.TryGetValue("announce", out BValue? announce)
            && announce is BString single && single.Length > 0 && single.TryGetText(out string? singleText))
        {
            tiers.Add([singleText]);
        }
        return tiers;
    }

    private static string? ReadLenientText(BDictionary root, string key)
    {
        if (root.TryGetValue(key + ".utf-8", out BValue? preferred) && preferred is BString p && p.TryGetText(out string? pText)) return pText;
        if (!root.TryGetValue(key, out BValue? value) || value is not BString s) return null;
        // Old torrents carry comments in legacy code pages; show them rather than reject the torrent.
        return s.TryGetText(out string? text) ? text : Encoding.Latin1.GetString(s.Bytes.Span);
    }
}
