using System.Globalization;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>
/// Reads the BEP 3 file description of an info dictionary: a single file ('length' and 'name') or the 'files'
/// list, with BEP 47 attributes. Names are sanitised, not refused (<see cref="PathSanitizer"/>); sizes are
/// checked against <see cref="Torrent.MaxFileSize"/> and <see cref="Torrent.MaxTotalSize"/>.
/// </summary>
internal static class V1FileListReader
{
    /// <summary>BitComet marks padding files by name rather than by attribute; libtorrent recognises them too.</summary>
    private const string BitCometPadding = "_____padding_file_";

    /// <summary>The one file of a single-file torrent; its name is the info dictionary's (sanitised) name.</summary>
    public static List<ParsedFile> ReadSingle(BDictionary info)
    {
        TorrentFileAttributes attributes = ParsedFile.ReadAttributes(info);
        bool symlink = (attributes & TorrentFileAttributes.Symlink) != 0;
        long length = symlink ? 0 : ParsedFile.IntegerOr(info, "length", -1);
        CheckLength(length, "'length'");

        BString name = NameOf(info) ?? throw new MetainfoException("info has no 'name'");
        if (name.Length == 0) throw new MetainfoException("'name' is empty, and a single-file torrent needs it as the file name");
        string clean = PathSanitizer.Sanitize(name.Bytes.Span, out bool changed)
            ?? throw new MetainfoException($"'name' {name} is not usable as a file name");
        if (clean.Contains(BitCometPadding, StringComparison.Ordinal)) attributes |= TorrentFileAttributes.Padding;
        List<string>? symlinkPath = symlink ? ParsedFile.ReadSymlinkPath(info, "the file") : null;
        if (symlinkPath is null) attributes &= ~TorrentFileAttributes.Symlink;
        return [new ParsedFile([clean], length, attributes) { Renamed = changed, SymlinkPath = symlinkPath }];
    }

    /// <summary>The entries of the 'files' list, each path starting with <paramref name="name"/>.</summary>
    public static List<ParsedFile> ReadList(BList list, string name)
    {
        if (list.Count > Torrent.MaxFileCount) throw new MetainfoException($"{list.Count} files is more than the limit of {Torrent.MaxFileCount}");
        var files = new List<ParsedFile>(list.Count);
        long total = 0;
        for (int i = 0; i < list.Count; i++)
        {
            string what = $"file #{i.ToString(CultureInfo.InvariantCulture)}";
            if (list[i] is not BDictionary entry) throw new MetainfoException($"{what} must be a dictionary, not {BDictionary.KindOf(list[i])}");
            TorrentFileAttributes attributes = ParsedFile.ReadAttributes(entry);
            bool symlink = (attributes & TorrentFileAttributes.Symlink) != 0;
            long length = symlink ? 0 : ParsedFile.IntegerOr(entry, "length", -1);
            CheckLength(length, what);
            if (length > Torrent.MaxTotalSize - total) throw new MetainfoException($"the files add up to more than {Torrent.MaxTotalSize} bytes");
            total += length;

            (List<string> segments, bool changed) = ReadPath(entry, name, length, (attributes & TorrentFileAttributes.Padding) != 0, what);
            if (segments.Exists(s => s.Contains(BitCometPadding, StringComparison.Ordinal))) attributes |= TorrentFileAttributes.Padding;
            List<string>? symlinkPath = symlink ? ParsedFile.ReadSymlinkPath(entry, what) : null;
            if (symlinkPath is null) attributes &= ~TorrentFileAttributes.Symlink;
            files.Add(new ParsedFile(segments, length, attributes) { Renamed = changed, SymlinkPath = symlinkPath });
        }
        return files;
    }

    /// <summary>'name.utf-8' when it is a string (more likely to be well encoded), else 'name' when it is one.</summary>
    public static BString? NameOf(BDictionary info)
    {
        if (info.TryGetValue("name.utf-8", out BValue? preferred) && preferred is BString p) return p;
        return info.TryGetValue("name", out BValue? plain) && plain is BString s ? s : null;
    }

    /// <summary>Rejects negative sizes and sizes beyond what any client can address (libtorrent's limit).</summary>
    public static void CheckLength(long length, string what)
    {
        if (length < 0) throw new MetainfoException($"{what} has a missing or negative length");
        if (length > Torrent.MaxFileSize) throw new MetainfoException($"{what} claims {length} bytes, more than the limit of {Torrent.MaxFileSize}");
    }

    private static (List<string> Segments, bool Changed) ReadPath(BDictionary entry, string name, long length, bool padding, string what)
    {
        // 'path.utf-8' wins when it is a list, as in libtorrent; a list of anything but strings is an error.
        BList? path = entry.TryGetValue("path.utf-8", out BValue? preferred) && preferred is BList p ? p
            : entry.TryGetValue("path", out BValue? plain) && plain is BList l ? l : null;
        var segments = new List<string> { name };
        if (path is not { Count: > 0 })
        {
            if (padding) return ([name, ".pad", length.ToString(CultureInfo.InvariantCulture)], false);
            throw new MetainfoException($"{what} has no 'path'");
        }
        bool changed = false;
        foreach (BValue item in path)
        {
            if (item is not BString segment) throw new MetainfoException($"{what} 'path' holds {BDictionary.KindOf(item)}, not a name");
            string? clean = PathSanitizer.Sanitize(segment.Bytes.Span, out bool segmentChanged);
            changed |= segmentChanged;
            if (clean is not null) segments.Add(clean);
        }
        if (segments.Count == 1)
        {
            // Every element was dropped ('..', '.'): the file still needs a name.
            segments.Add("_");
            changed = true;
        }
        return (segments, changed);
    }
}
