using System.Globalization;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>
/// Reads a BEP 52 'file tree' into files laid out as v2 requires: every non-empty file starts on a piece
/// boundary, so a padding file follows each file whose end is not aligned (the last one included, as libtorrent
/// lays it out). Names are sanitised like v1 paths; each non-empty file must carry a 32-byte, non-zero
/// 'pieces root'.
/// </summary>
internal static class FileTreeReader
{
    /// <summary>Deepest folder nesting accepted (libtorrent's limit).</summary>
    public const int MaxDepth = 100;

    /// <summary>
    /// The files of <paramref name="tree"/>. <paramref name="hasFileList"/> (a hybrid's v1 'files') makes a lone file
    /// sit in the torrent's folder rather than be a single-file torrent.
    /// </summary>
    public static List<ParsedFile> Read(BDictionary tree, string name, int pieceLength, bool hasFileList, out bool isSingleFile)
    {
        var files = new List<ParsedFile>();
        isSingleFile = false;
        long total = 0;
        var stack = new Stack<(BDictionary Node, List<string> Folder, int Depth, int Next)>();
        stack.Push((tree, [name], 0, 0));
        while (stack.Count > 0)
        {
            (BDictionary node, List<string> folder, int depth, int next) = stack.Pop();
            if (next >= node.Count) continue;
            stack.Push((node, folder, depth, next + 1)); // come back for the next entry after this one's subtree
            (BString key, BValue value) = node.EntryAt(next);
            if (key.Length == 0) throw new MetainfoException($"'file tree' folder '{Printable(folder)}' has an entry with an empty name");
            if (value is not BDictionary child) throw new MetainfoException($"'file tree' entry '{Printable(folder)}/{key}' must be a dictionary, not {BDictionary.KindOf(value)}");

            bool isFile = child.Count == 1 && child.EntryAt(0).Key.Length == 0;
            string? clean = PathSanitizer.Sanitize(key.Bytes.Span, out bool changed);
            if (isFile)
            {
                bool single = depth == 0 && !hasFileList && node.Count == 1;
                isSingleFile |= single;
                List<string> path = single ? [] : [.. folder];
                path.Add(clean ?? "_"); // a file needs a name even when '..' was dropped
                ParsedFile file = ReadFile(child.EntryAt(0).Value, path, changed || clean is null);
                if (file.Length > Torrent.MaxTotalSize - total) throw new MetainfoException($"the files add up to more than {Torrent.MaxTotalSize} bytes");
                files.Add(file);
                total += file.Length;
                long gap = total % pieceLength;
                if (gap != 0)
                {
                    long padding = pieceLength - gap;
                    List<string> padPath = single ? [".pad", padding.ToString(CultureInfo.InvariantCulture)] : [name, ".pad", padding.ToString(CultureInfo.InvariantCulture)];
                    files.Add(new ParsedFile(padPath, padding, TorrentFileAttributes.Padding));
                    total += padding;
                }
                if (files.Count > Torrent.MaxFileCount) throw new MetainfoException($"the file tree holds more than {Torrent.MaxFileCount} files");
                continue;
            }
            if (depth + 1 > MaxDepth) throw new MetainfoException($"'file tree' nests folders deeper than {MaxDepth}");
            List<string> subfolder = clean is null ? folder : [.. folder, clean]; // a dropped '..' folder merges into its parent
            stack.Push((child, subfolder, depth + 1, 0));
        }
        return files;
    }

    private static ParsedFile ReadFile(BValue value, List<string> path, bool renamed)
    {
        string what = $"file '{TorrentPathRules.Printable(string.Join('/', path))}'";
        if (value is not BDictionary entry) throw new MetainfoException($"{what}: its '' entry must be a dictionary, not {BDictionary.KindOf(value)}");
        TorrentFileAttributes attributes = ParsedFile.ReadAttributes(entry);
        if ((attributes & TorrentFileAttributes.Padding) != 0)
            throw new MetainfoException($"{what} is marked as padding, which a 'file tree' may not hold (v2 padding is implied)");
        bool symlink = (attributes & TorrentFileAttributes.Symlink) != 0;
        long length = symlink ? 0 : ParsedFile.IntegerOr(entry, "length", -1);
        V1FileListReader.CheckLength(length, what);
        List<string>? symlinkPath = symlink ? ParsedFile.ReadSymlinkPath(entry, what) : null;
        if (symlinkPath is null) attributes &= ~TorrentFileAttributes.Symlink;

        Sha256Hash? root = null;
        if (symlinkPath is null && length > 0)
        {
            if (!entry.TryGetValue("pieces root", out BValue? rootValue) || rootValue is not BString { Length: Sha256Hash.Length } rootBytes)
                throw new MetainfoException($"{what} has no 32-byte 'pieces root'");
            root = new Sha256Hash(rootBytes.Bytes.Span);
            if (root.Value.IsZero) throw new MetainfoException($"{what} has an all-zero 'pieces root'");
        }
        return new ParsedFile(path, length, attributes) { PiecesRoot = root, SymlinkPath = symlinkPath, Renamed = renamed };
    }

    private static string Printable(List<string> folder) => TorrentPathRules.Printable(string.Join('/', folder));
}
