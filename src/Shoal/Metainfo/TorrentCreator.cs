using System.Buffers;
using System.Security.Cryptography;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>Options for <see cref="TorrentCreator"/>.</summary>
public sealed record TorrentCreationOptions
{
    /// <summary>Announce URLs; each inner list is one tier (BEP 12).</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers { get; init; } = [];

    /// <summary>Piece length in bytes (power of two, ≥ 16 KiB); null chooses from the total size.</summary>
    public int? PieceLength { get; init; }

    /// <summary>Sets the private flag.</summary>
    public bool IsPrivate { get; init; }

    /// <summary>Optional comment.</summary>
    public string? Comment { get; init; }

    /// <summary>'created by'.</summary>
    public string? CreatedBy { get; init; } = "Shoal 0.1";

    /// <summary>'creation date'; null omits it.</summary>
    public DateTimeOffset? CreationDate { get; init; }
}

/// <summary>Makes v1 torrents from a file or a folder.</summary>
/// <remarks>
/// A folder is walked recursively; every regular file is included, files reached through symbolic links
/// are followed, linked folders are not (they could loop or leave the tree). Files are read sequentially
/// in large pooled chunks, and the next chunk is read while the current one is hashed, so creation runs
/// at about the speed of SHA-1 on one core when the data is cached.
/// </remarks>
public static class TorrentCreator
{
    /// <summary>Smallest piece length <see cref="ChoosePieceLength"/> returns.</summary>
    public const int MinChosenPieceLength = 16 * 1024;

    /// <summary>Largest piece length <see cref="ChoosePieceLength"/> returns.</summary>
    public const int MaxChosenPieceLength = 16 * 1024 * 1024;

    /// <summary>Most pieces <see cref="ChoosePieceLength"/> aims for, unless the 16 MiB cap forces more.</summary>
    public const int TargetMaxPieces = 2000;

    private const int ChunkSize = 4 * 1024 * 1024;
    private const int HashLength = 20;

    /// <summary>
    /// Hashes <paramref name="path"/> (a file, or a folder walked in ordinal path order) and returns the torrent.
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
            sources = [new SourceFile(fullPath, [], new FileInfo(fullPath).Length)];
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
        long pieceCount = ((totalSize - 1) / pieceLength) + 1;
        if (pieceCount > Torrent.MaxPieceCount)
            throw new ArgumentException($"{pieceCount} pieces is more than the limit of {Torrent.MaxPieceCount}; choose a larger piece length", nameof(options));

        byte[] pieces = await HashAsync(sources, pieceLength, (int)pieceCount, hashedBytes, cancellationToken).ConfigureAwait(false);

        var info = new BDictionary();
        if (isFolder)
        {
            var files = new BList();
            foreach (SourceFile source in sources)
            {
                var entry = new BDictionary();
                entry.Set("length", new BInteger(source.Length));
                entry.Set("path", new BList(source.RelativeSegments.Select(s => (BValue)new BString(s))));
                files.Add(entry);
            }
            info.Set("files", files);
        }
        else
        {
            info.Set("length", new BInteger(totalSize));
        }
        info.Set("name", new BString(name));
        info.Set("piece length", new BInteger(pieceLength));
        info.Set("pieces", new BString(pieces));
        if (options.IsPrivate) info.Set("private", new BInteger(1));

        var root = new BDictionary();
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
        if (options.CreatedBy is not null) root.Set("created by", new BString(options.CreatedBy));
        if (options.CreationDate is { } date) root.Set("creation date", new BInteger(date.ToUnixTimeSeconds()));

        return Torrent.Parse(Bencode.Encode(root));
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

    internal sealed record SourceFile(string FullPath, string[] RelativeSegments, long Length);

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
                found.Add((string.Join('/', entrySegments), new SourceFile(entry.FullName, entrySegments, file.Length)));
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

    /// <summary>Hashes the concatenation of all files, piece by piece, reading one chunk ahead of the hasher.</summary>
    private static async Task<byte[]> HashAsync(List<SourceFile> sources, int pieceLength, int pieceCount, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        byte[] pieces = new byte[pieceCount * HashLength];
        byte[] current = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] next = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var reader = new ConcatenatedReader(sources);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        try
        {
            int pieceIndex = 0;
            int pieceFilled = 0;
            long hashed = 0;
            int currentLength = await reader.ReadAsync(current.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false);
            while (currentLength > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int chunkLength = currentLength;
                ValueTask<int> readAhead = reader.ReadAsync(next.AsMemory(0, ChunkSize), cancellationToken);
                try
                {
                    int offset = 0;
                    while (offset < currentLength)
                    {
                        int take = Math.Min(currentLength - offset, pieceLength - pieceFilled);
                        sha1.AppendData(current, offset, take);
                        offset += take;
                        pieceFilled += take;
                        if (pieceFilled == pieceLength)
                        {
                            sha1.GetHashAndReset(pieces.AsSpan(pieceIndex++ * HashLength, HashLength));
                            pieceFilled = 0;
                        }
                    }
                }
                finally
                {
                    // Never leave a read running into a buffer that goes back to the pool.
                    currentLength = await readAhead.ConfigureAwait(false);
                }
                hashed += chunkLength;
                progress?.Report(hashed);
                (current, next) = (next, current);
            }
            if (pieceFilled > 0) sha1.GetHashAndReset(pieces.AsSpan(pieceIndex++ * HashLength, HashLength));
            if (pieceIndex != pieceCount) throw new IOException("files changed size while they were being hashed");
            return pieces;
        }
        finally
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }
}
