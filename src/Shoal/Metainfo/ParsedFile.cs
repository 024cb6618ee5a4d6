using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>A file as the info dictionary's readers produce it, before offsets, duplicates and symlinks are settled.</summary>
internal sealed class ParsedFile(List<string> segments, long length, TorrentFileAttributes attributes)
{
    /// <summary>Sanitised path, torrent name first for multi-file torrents.</summary>
    public List<string> Segments { get; set; } = segments;

    public long Length { get; } = length;

    public TorrentFileAttributes Attributes { get; set; } = attributes;

    public bool IsPadding => (Attributes & TorrentFileAttributes.Padding) != 0;

    public Sha256Hash? PiecesRoot { get; init; }

    /// <summary>The sanitised 'symlink path' (relative to the torrent's root folder) before it is resolved.</summary>
    public List<string>? SymlinkPath { get; init; }

    /// <summary>The resolved target (download-folder relative), or null when the link may not be created.</summary>
    public List<string>? SymlinkTarget { get; set; }

    public bool Renamed { get; set; }

    public string JoinedPath => string.Join('/', Segments);

    /// <summary>The BEP 47 'attr' string of an entry; unknown characters are ignored.</summary>
    public static TorrentFileAttributes ReadAttributes(BDictionary entry)
    {
        if (!entry.TryGetValue("attr", out BValue? value) || value is not BString attr) return TorrentFileAttributes.None;
        var attributes = TorrentFileAttributes.None;
        foreach (byte c in attr.Bytes.Span)
        {
            attributes |= c switch
            {
                (byte)'p' => TorrentFileAttributes.Padding,
                (byte)'x' => TorrentFileAttributes.Executable,
                (byte)'h' => TorrentFileAttributes.Hidden,
                (byte)'l' => TorrentFileAttributes.Symlink,
                _ => TorrentFileAttributes.None,
            };
        }
        return attributes;
    }

    /// <summary>An integer field, or <paramref name="fallback"/> when absent or of another type (libtorrent's dict_find_int_value).</summary>
    public static long IntegerOr(BDictionary dict, string key, long fallback) =>
        dict.TryGetValue(key, out BValue? value) && value is BInteger integer ? integer.Value : fallback;

    /// <summary>The sanitised 'symlink path' list, or null when there is none (the entry is then not a link).</summary>
    public static List<string>? ReadSymlinkPath(BDictionary entry, string what)
    {
        if (!entry.TryGetValue("symlink path", out BValue? value) || value is not BList list) return null;
        var segments = new List<string>(list.Count);
        foreach (BValue item in list)
        {
            if (item is not BString segment) throw new MetainfoException($"{what}: 'symlink path' holds {BDictionary.KindOf(item)}, not a name");
            if (PathSanitizer.Sanitize(segment.Bytes.Span, out _) is { } clean) segments.Add(clean);
        }
        return segments;
    }
}
