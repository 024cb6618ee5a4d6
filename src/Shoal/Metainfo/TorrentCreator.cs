using System.Globalization;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>Makes v1, v2 and hybrid torrents from a file or a folder.</summary>
/// <remarks>
/// <para>A folder is walked recursively; every regular file is included, files reached through symbolic links
/// are followed, linked folders are not (they could loop or leave the tree). Files go in libtorrent's canonical
/// order (path segment by segment, as UTF-8 bytes), and a file the owner may execute gets BEP 47 attr 'x', as
/// libtorrent marks it. Hashing is <see cref="CreationHasher"/>'s: one sequential pass, both versions at once.</para>
/// <para>v2 and hybrid torrents follow libtorrent 2.0's layout so the same files and piece length give the same
/// info-hashes: a 'file tree' with each non-empty file's 'pieces root', 'meta version' 2, the 'piece layers' of
/// files longer than one piece, and for a hybrid of several files a BEP 47 padding file (".pad/N", attr 'p') after
/// every non-empty file whose end is not on a piece boundary, the last one included.</para>
/// </remarks>
public static class TorrentCreator
{
    /// <summary>Smallest piece length <see cref="ChoosePieceLength"/> returns.</summary>
    public const int MinChosenPieceLength = 16 * 1024;

    /// <summary>Largest piece length <see cref="ChoosePieceLength"/> returns.</summary>
    public const int MaxChosenPieceLength = 16 * 1024 * 1024;

    /// <summary>Most pieces <see cref="ChoosePieceLength"/> aims for, unless the 16 MiB cap forces more.</summary>
    public const int TargetMaxPieces = 2000;

    /// <summary>
    /// Hashes <paramref name="path"/> (a file, or a folder walked in canonical order) and returns the torrent.
    /// <paramref name="hashedBytes"/> reports progress in bytes.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="ArgumentException">The folder holds no files, the content is empty, or the piece length is invalid.</exception>
    /// <exception cref="MetainfoException">A file or folder name cannot be stored safely in a torrent (e.g. "CON", "a\b").</exception>
    /// <exception cref="IOException">A file cannot be read, or changed size while being hashed.</exception>
    public static async Task<Torrent> CreateAsync(string path, TorrentCreationOptions options, IProgress<long>? hashedBytes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);

        string fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        bool isFolder;
        List<SourceFile> sources;
        string name = Path.GetFileName(fullPath);
        if (File.Exists(fullPath))
        {
            isFolder = false;
            sources = [new SourceFile(fullPath, [], new FileInfo(fullPath).Length, IsExecutable(new FileInfo(fullPath)))];
        }
        else if (Directory.Exists(fullPath))
        {
            isFolder = true;
            sources = ListFolder(fullPath);
            if (sources.Count == 0) throw new ArgumentException($"folder '{path}' holds no files to make a torrent of", nameof(path));
        }
        else
        {
            throw new FileNotFoundException($"'{path}' is neither a file nor a folder", path);
        }
        if (name.Length == 0) throw new ArgumentException($"'{path}' has no name to give the torrent", nameof(path));
        CheckNames(name, sources);
        if (sources.Count > Torrent.MaxFileCount)
            throw new ArgumentException($"'{path}' holds {sources.Count} files, more than the limit of {Torrent.MaxFileCount}", nameof(path));

        long totalSize = 0;
        foreach (SourceFile source in sources) totalSize += source.Length;
        if (totalSize == 0) throw new ArgumentException($"'{path}' holds no data (every file is empty)", nameof(path));

        int pieceLength = options.PieceLength ?? ChoosePieceLength(totalSize);
        if (pieceLength < Torrent.MinPieceLength || pieceLength > Torrent.MaxPieceLength || (pieceLength & (pieceLength - 1)) != 0)
            throw new ArgumentException($"piece length {pieceLength} is not a power of two between {Torrent.MinPieceLength} and {Torrent.MaxPieceLength}", nameof(options));
        bool v1 = options.Version != TorrentVersion.V2, v2 = options.Version != TorrentVersion.V1;
        // libtorrent pads a hybrid only when it has several files (a single-file hybrid needs none).
        long[]? padding = options.Version == TorrentVersion.Hybrid && sources.Count > 1 ? Padding(sources, pieceLength) : null;
        long streamSize = totalSize + (padding?.Sum() ?? 0);
        long pieceCount = ((streamSize - 1) / pieceLength) + 1;
        if (pieceCount > Torrent.MaxPieceCount)
            throw new ArgumentException($"{pieceCount} pieces is more than the limit of {Torrent.MaxPieceCount}; choose a larger piece length", nameof(options));

        CreationHashes hashes = await CreationHasher.HashAsync(sources, pieceLength, padding, v1 ? (int)pieceCount : 0, v2, hashedBytes, cancellationToken)
            .ConfigureAwait(false);

        var info = new BDictionary();
        info.Set("name", new BString(name));
        info.Set("piece length", new BInteger(pieceLength));
        if (options.IsPrivate) info.Set("private", new BInteger(1));
        if (v1)
        {
            if (isFolder) info.Set("files", FileList(sources, padding));
            else
            {
                info.Set("length", new BInteger(totalSize));
                if (sources[0].Executable) info.Set("attr", new BString("x"));
            }
            info.Set("pieces", new BString(hashes.V1Pieces!));
        }

        var root = new BDictionary();
        if (v2)
        {
            info.Set("file tree", FileTree(name, isFolder, sources, hashes.Roots));
            info.Set("meta version", new BInteger(2));
            var layers = new BDictionary();
            for (int i = 0; i < sources.Count; i++)
            {
                if (hashes.Layers[i] is { } layer) layers.Set(new BString(hashes.Roots[i]!.Value.Span.ToArray()), new BString(layer));
            }
            root.Set("piece layers", layers);
        }
        root.Set("info", info);
        List<List<string>> tiers = [.. options.AnnounceTiers
            .Select(t => t.Where(u => !string.IsNullOrEmpty(u)).ToList())
            .Where(t => t.Count > 0)];
        if (tiers.Count > 0)
        {
            root.Set("announce", new BString(tiers[0][0]));
            if (tiers.Sum(t => t.Count) > 1)
                root.Set("announce-list", new BList(tiers.Select(t => (BValue)new BList(t.Select(u => (BValue)new BString(u))))));
        }
        if (options.Comment is not null) root.Set("comment", new BString(options.Comment));
        List<string> webSeeds = [.. options.WebSeeds.Where(u => !string.IsNullOrEmpty(u)).Distinct(StringComparer.Ordinal)];
        if (webSeeds.Count > 0) root.Set("url-list", new BList(webSeeds.Select(u => (BValue)new BString(u))));
        if (options.CreatedBy is not null) root.Set("created by", new BString(options.CreatedBy));
        if (options.CreationDate is { } date) root.Set("creation date", new BInteger(date.ToUnixTimeSeconds()));

        return Torrent.Parse(Bencode.Encode(root));
    }

    /// <summary>Zeros after each file to reach the next piece boundary (hybrid layout): none after empty or aligned files.</summary>
    private static long[] Padding(List<SourceFile> sources, int pieceLength)
    {
        var padding = new long[sources.Count];
        long offset = 0;
        for (int i = 0; i < sources.Count; i++)
        {
            offset += sources[i].Length;
            if (sources[i].Length > 0 && offset % pieceLength != 0)
            {
                padding[i] = pieceLength - (offset % pieceLength);
                offset += padding[i];
            }
        }
        return padding;
    }

    private static BList FileList(List<SourceFile> sources, long[]? padding)
    {
        var files = new BList();
        for (int i = 0; i < sources.Count; i++)
        {
            SourceFile source = sources[i];
            var entry = new BDictionary();
            if (source.Executable) entry.Set("attr", new BString("x"));
            entry.Set("length", new BInteger(source.Length));
            entry.Set("path", new BList(source.RelativeSegments.Select(s => (BValue)new BString(s))));
            files.Add(entry);
            if (padding is not null && padding[i] > 0)
            {
                var pad = new BDictionary();
                string size = padding[i].ToString(CultureInfo.InvariantCulture);
                pad.Set("attr", new BString("p"));
                pad.Set("length", new BInteger(padding[i]));
                pad.Set("path", new BList([new BString(".pad"), new BString(size)]));
                files.Add(pad);
            }
        }
        return files;
    }

    /// <summary>The BEP 52 'file tree': folders as nested dictionaries, each file a dictionary under the empty key.</summary>
    private static BDictionary FileTree(string name, bool isFolder, List<SourceFile> sources, Sha256Hash?[] roots)
    {
        var tree = new BDictionary();
        for (int i = 0; i < sources.Count; i++)
        {
            SourceFile source = sources[i];
            string[] path = isFolder ? source.RelativeSegments : [name];
            BDictionary node = tree;
            foreach (string segment in path)
            {
                if (!node.TryGetDictionary(segment, out BDictionary? child))
                {
                    child = new BDictionary();
                    node.Set(segment, child);
                }
                node = child;
            }
            var leaf = new BDictionary();
            if (source.Executable) leaf.Set("attr", new BString("x"));
            leaf.Set("length", new BInteger(source.Length));
            if (roots[i] is { } root) leaf.Set("pieces root", new BString(root.Span.ToArray()));
            node.Set("", leaf);
        }
        return tree;
    }

    /// <summary>
    /// The piece length chosen for a total size: aims at roughly 1,000–2,000 pieces, within 16 KiB..16 MiB.
    /// Rule: the smallest power of two, at least 16 KiB, that makes at most 2,000 pieces, capped at 16 MiB
    /// (so 64 MiB gets 64 KiB pieces and 1,024 of them; 1 GiB gets 1 MiB; 100 GiB gets 16 MiB).
    /// </summary>
    public static int ChoosePieceLength(long totalSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSize);
        int length = MinChosenPieceLength;
        while (length < MaxChosenPieceLength && (totalSize + length - 1) / length > TargetMaxPieces) length <<= 1;
        return length;
    }

    internal sealed record SourceFile(string FullPath, string[] RelativeSegments, long Length, bool Executable = false);

    /// <summary>
    /// BEP 47 'x' as libtorrent sets it: the owner may execute the file. libtorrent reads the mode without following
    /// a link (lstat), and a link's own mode is rwx, so a file reached through a symbolic link is marked too.
    /// </summary>
    private static bool IsExecutable(FileSystemInfo entry) =>
        !OperatingSystem.IsWindows() && (entry.LinkTarget is not null || (entry.UnixFileMode & UnixFileMode.UserExecute) != 0);

    /// <summary>
    /// Refuses names that clients would change when they open the torrent (sanitising or telling duplicates apart),
    /// because the torrent could then not be seeded from the very folder it was made of: a name '..', with a control
    /// character, over 240 bytes or a Windows device name, and two names that differ only in letter case or Unicode
    /// form (one file on Windows and macOS, renamed "x.1.ext" by libtorrent everywhere).
    /// </summary>
    private static void CheckNames(string name, List<SourceFile> sources)
    {
        CheckSegment(name, name);
        var parsed = new List<ParsedFile>(sources.Count);
        foreach (SourceFile source in sources)
        {
            foreach (string segment in source.RelativeSegments) CheckSegment(segment, source.FullPath);
            parsed.Add(new ParsedFile([name, .. source.RelativeSegments], source.Length, TorrentFileAttributes.None));
        }
        if (!DuplicatePathResolver.Resolve(parsed)) return;
        int renamed = parsed.FindIndex(f => f.Renamed);
        throw new MetainfoException($"'{TorrentPathRules.Printable(sources[renamed].FullPath)}' has the name of another file when letter case and "
            + "Unicode form are ignored; clients would rename it, so rename one of them first");
    }

    private static void CheckSegment(string segment, string where)
    {
        string? clean = PathSanitizer.Sanitize(segment, out bool changed);
        if (clean is null || changed)
        {
            throw new MetainfoException($"'{TorrentPathRules.Printable(where)}': the name '{TorrentPathRules.Printable(segment)}' cannot go into a torrent as it is "
                + $"(clients would {(clean is null ? "drop it" : $"change it to '{TorrentPathRules.Printable(clean)}'")}); rename it first");
        }
    }

    private static List<SourceFile> ListFolder(string root)
    {
        var found = new List<(string Relative, SourceFile File)>();
        var pending = new Stack<(DirectoryInfo Dir, string[] Segments)>();
        pending.Push((new DirectoryInfo(root), []));
        while (pending.Count > 0)
        {
            (DirectoryInfo dir, string[] segments) = pending.Pop();
            foreach (FileSystemInfo entry in dir.EnumerateFileSystemInfos())
            {
                string[] entrySegments = [.. segments, entry.Name];
                if (entry is DirectoryInfo sub)
                {
                    if (sub.LinkTarget is null) pending.Push((sub, entrySegments));
                    continue;
                }
                var file = (FileInfo)entry;
                if (file.LinkTarget is not null)
                {
                    // Follow file links; skip dangling ones and links to folders.
                    if (file.ResolveLinkTarget(returnFinalTarget: true) is not FileInfo { Exists: true } target) continue;
                    file = target;
                }
                found.Add((string.Join('/', entrySegments), new SourceFile(entry.FullName, entrySegments, file.Length, IsExecutable(entry))));
            }
        }
        // libtorrent's canonical order (BEP 52 needs one; v1 uses it too): path segment by segment, as UTF-8 bytes.
        found.Sort((a, b) => CompareSegments(a.File.RelativeSegments, b.File.RelativeSegments));
        return found.ConvertAll(f => f.File);
    }

    /// <summary>Orders two paths element by element, each element compared as UTF-8 bytes (libtorrent's path_compare).</summary>
    internal static int CompareSegments(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            int cmp = System.Text.Encoding.UTF8.GetBytes(a[i]).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b[i]));
            if (cmp != 0) return cmp;
        }
        return a.Count.CompareTo(b.Count);
    }
}
