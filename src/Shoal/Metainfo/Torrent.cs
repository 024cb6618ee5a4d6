namespace Shoal.Metainfo;

/// <summary>
/// A parsed .torrent (BEP 3, v1). Shaped for BEP 52: the version and per-version hashes are separate
/// properties, so v2 and hybrid torrents add fields rather than change these.
/// </summary>
public sealed class Torrent
{
    /// <summary>Parses a .torrent file's bytes. Throws <see cref="MetainfoException"/> on any malformed or hostile content.</summary>
    public static Torrent Parse(ReadOnlyMemory<byte> data) => throw new NotImplementedException();

    /// <summary>Builds the torrent from a bencoded info dictionary alone (for BEP 9 metadata); no trackers.</summary>
    public static Torrent FromInfoDictionary(ReadOnlyMemory<byte> infoDictionary) => throw new NotImplementedException();

    /// <summary>Reads and parses a .torrent file. Throws <see cref="MetainfoException"/> naming the file when it is unreadable or malformed.</summary>
    public static Torrent Load(string path) => throw new NotImplementedException();

    /// <summary>The 20-byte info-hash used on the wire (SHA-1 of the info dictionary for v1).</summary>
    public InfoHash InfoHash => throw new NotImplementedException();

    /// <summary>Suggested name: the file name (single-file) or the top folder name (multi-file).</summary>
    public string Name => throw new NotImplementedException();

    /// <summary>True when the info dictionary has a 'files' list.</summary>
    public bool IsMultiFile => throw new NotImplementedException();

    /// <summary>Bytes of content, padding files included.</summary>
    public long TotalSize => throw new NotImplementedException();

    /// <summary>Nominal piece length in bytes (a power of two, at least 16 KiB).</summary>
    public int PieceLength => throw new NotImplementedException();

    /// <summary>Number of pieces.</summary>
    public int PieceCount => throw new NotImplementedException();

    /// <summary>Files in torrent order; their byte ranges tile [0, TotalSize).</summary>
    public IReadOnlyList<TorrentFile> Files => throw new NotImplementedException();

    /// <summary>The concatenated 20-byte SHA-1 piece hashes (v1).</summary>
    public ReadOnlyMemory<byte> PieceHashes => throw new NotImplementedException();

    /// <summary>Announce URLs grouped in tiers (BEP 12); a lone 'announce' is one tier of one.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers => throw new NotImplementedException();

    /// <summary>The 'private' flag (BEP 27).</summary>
    public bool IsPrivate => throw new NotImplementedException();

    /// <summary>The 'comment' field.</summary>
    public string? Comment => throw new NotImplementedException();

    /// <summary>The 'created by' field.</summary>
    public string? CreatedBy => throw new NotImplementedException();

    /// <summary>The 'creation date' field.</summary>
    public DateTimeOffset? CreationDate => throw new NotImplementedException();

    /// <summary>The exact bytes of the info dictionary (what the info-hash hashes; served by BEP 9).</summary>
    public ReadOnlyMemory<byte> InfoDictionary => throw new NotImplementedException();

    /// <summary>The 20-byte SHA-1 hash of one piece.</summary>
    public ReadOnlySpan<byte> GetPieceHash(int piece) => throw new NotImplementedException();

    /// <summary>Length of one piece (the last one may be shorter).</summary>
    public int GetPieceSize(int piece) => throw new NotImplementedException();

    /// <summary>The whole .torrent file, bencoded.</summary>
    public byte[] ToBytes() => throw new NotImplementedException();

    /// <summary>A magnet link with this torrent's info-hash, name and trackers.</summary>
    public MagnetLink ToMagnetLink() => throw new NotImplementedException();
}
