using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>What <see cref="TorrentInfoReader"/> reads from an info dictionary.</summary>
internal sealed record TorrentInfoParts(
    TorrentVersion Version,
    InfoHash? InfoHashV1,
    Sha256Hash? InfoHashV2,
    string Name,
    bool IsMultiFile,
    int PieceLength,
    int PieceCount,
    long TotalSize,
    List<ParsedFile> Files,
    ReadOnlyMemory<byte> PieceHashes,
    bool IsPrivate);

/// <summary>
/// Reads and checks an info dictionary (v1, v2 or hybrid) with the rules libtorrent 2.0 applies when it loads a
/// torrent, so that Shoal opens what libtorrent opens and refuses what it refuses, each refusal with one line.
/// </summary>
/// <remarks>
/// Refused: a 'meta version' above 2; a v2 info dictionary that is not canonical bencode (its SHA-256 must be
/// reproducible); a missing, non-positive or over-1-GiB 'piece length', or for v2 one that is not a power of two of
/// at least 16 KiB; no name; a v2 torrent without 'file tree' or a v1 one with it; a missing or negative length, or
/// one beyond <see cref="Torrent.MaxFileSize"/>; no files or no data; 'pieces' that is not exactly one 20-byte hash
/// per piece; a hybrid whose v1 file list and v2 file tree disagree; more than <see cref="Torrent.MaxPieceCount"/>
/// pieces. Everything about names is sanitised instead (<see cref="PathSanitizer"/>, <see cref="DuplicatePathResolver"/>).
/// </remarks>
internal static class TorrentInfoReader
{
    private const int V1HashLength = 20;

    public static TorrentInfoParts Read(BDictionary info)
    {
        ReadOnlySpan<byte> bytes = info.SourceBytes.Span;
        long version = ParsedFile.IntegerOr(info, "meta version", -1);
        if (version > 0)
        {
            // libtorrent checks the version first (BEP 52 asks for it), then refuses a v2 info dictionary its
            // decoder had to be lenient with: the SHA-256 info-hash must be the hash of canonical bencode.
            if (version > 2) throw new MetainfoException($"'meta version' {version} is newer than this client understands (2)");
            if (!info.IsCanonical) throw new MetainfoException("a v2 info dictionary must be canonical bencode (sorted unique keys, no leading zeros)");
        }
        bool v2 = version == 2;

        long pieceLength = ParsedFile.IntegerOr(info, "piece length", -1);
        if (pieceLength <= 0) throw new MetainfoException($"'piece length' is missing or not positive ({pieceLength})");
        if (pieceLength > Torrent.MaxPieceLength)
            throw new MetainfoException($"'piece length' {pieceLength} is more than 32767 blocks of 16 KiB ({Torrent.MaxPieceLength}), the most any client downloads");
        if (v2 && (pieceLength < Torrent.MinPieceLength || (pieceLength & (pieceLength - 1)) != 0))
            throw new MetainfoException($"'piece length' {pieceLength} is not a power of two of at least 16 KiB, which a v2 torrent needs");

        BString rawName = V1FileListReader.NameOf(info) ?? throw new MetainfoException("info has no 'name'");
        InfoHash v1Hash = InfoHash.ComputeV1(bytes);
        Sha256Hash? v2Hash = v2 ? Sha256Hash.Compute(bytes) : null;
        // A name that cleans to nothing ('..', '/') is replaced by the info-hash, as libtorrent does (it uses the
        // SHA-1 of the info dictionary even for a v2-only torrent).
        string name = PathSanitizer.Sanitize(rawName.Bytes.Span, out _) ?? v1Hash.ToHex();

        BList? fileList = info.TryGetValue("files", out BValue? filesValue) ? filesValue as BList : null;
        BDictionary? fileTree = info.TryGetValue("file tree", out BValue? treeValue) ? treeValue as BDictionary : null;
        if (v2 && fileTree is null) throw new MetainfoException("a v2 torrent ('meta version' 2) has no 'file tree' dictionary");
        if (!v2 && fileTree is not null) throw new MetainfoException("the torrent has a 'file tree' but no 'meta version' 2");

        List<ParsedFile>? v1Files = null;
        bool isMultiFile;
        if (fileList is not null)
        {
            v1Files = V1FileListReader.ReadList(fileList, name);
            isMultiFile = true;
        }
        else if (!v2 || info.ContainsKey("length"))
        {
            v1Files = V1FileListReader.ReadSingle(info);
            isMultiFile = false;
            if (!v2) name = v1Files[0].Segments[0];
        }
        else
        {
            isMultiFile = true; // corrected below from the tree's shape
        }

        List<ParsedFile> files;
        if (v2)
        {
            files = FileTreeReader.Read(fileTree!, name, (int)pieceLength, fileList is not null, out bool single);
            if (v1Files is null)
            {
                isMultiFile = !single;
                if (single) name = files[0].Segments[0]; // a lone file is named by the tree, as libtorrent names it
            }
            if (v1Files is not null) files = MatchHybrid(files, v1Files);
        }
        else
        {
            files = v1Files!;
        }
        if (files.Count == 0) throw new MetainfoException("the torrent lists no files");

        long total = 0;
        foreach (ParsedFile file in files) total += file.Length; // each reader bounded the sum by MaxTotalSize
        if (total == 0) throw new MetainfoException("the torrent holds no data (every file is empty)");
        long pieceCount = ((total - 1) / pieceLength) + 1;
        if (pieceCount > Torrent.MaxPieceCount)
            throw new MetainfoException($"{total} bytes in pieces of {pieceLength} make {pieceCount} pieces, more than the limit of {Torrent.MaxPieceCount}");

        ReadOnlyMemory<byte> pieces = ReadOnlyMemory<byte>.Empty;
        bool hasV1 = v1Files is not null;
        if (info.TryGetValue("pieces", out BValue? piecesValue) && piecesValue is BString piecesString)
        {
            if (piecesString.Length != pieceCount * V1HashLength)
            {
                throw new MetainfoException(piecesString.Length % V1HashLength != 0
                    ? $"'pieces' is {piecesString.Length} bytes, not a multiple of {V1HashLength}"
                    : $"'pieces' holds {piecesString.Length / V1HashLength} hashes but {total} bytes in pieces of {pieceLength} make {pieceCount}");
            }
            pieces = piecesString.Bytes;
        }
        else if (hasV1)
        {
            throw new MetainfoException(v2 ? "a hybrid torrent has no 'pieces' for its v1 half" : "info has no 'pieces'");
        }

        SymlinkResolver.Resolve(files, isMultiFile);
        DuplicatePathResolver.Resolve(files);
        bool isPrivate = ParsedFile.IntegerOr(info, "private", 0) != 0;
        TorrentVersion kind = !v2 ? TorrentVersion.V1 : hasV1 ? TorrentVersion.Hybrid : TorrentVersion.V2;
        return new TorrentInfoParts(kind, hasV1 ? v1Hash : null, v2Hash, name, isMultiFile, (int)pieceLength, (int)pieceCount, total,
            files, hasV1 ? pieces : ReadOnlyMemory<byte>.Empty, isPrivate);
    }

    /// <summary>
    /// A hybrid's two descriptions must agree on every file that holds data: same index, path, size and offset (the
    /// check libtorrent calls files_compatible). Hybrids made by libtorrent 2.0.0-2.0.7 have no padding after the last
    /// file in the v1 list; that one difference is accepted, as libtorrent accepts it.
    /// </summary>
    private static List<ParsedFile> MatchHybrid(List<ParsedFile> v2Files, List<ParsedFile> v1Files)
    {
        if (v2Files.Count == v1Files.Count + 1) RemoveTailPadding(v2Files);
        if (v2Files.Count != v1Files.Count)
            throw new MetainfoException($"hybrid torrent: the v1 'files' list has {v1Files.Count} entries, the v2 'file tree' {v2Files.Count} (with padding)");
        long offset1 = 0, offset2 = 0;
        for (int i = 0; i < v2Files.Count; i++)
        {
            ParsedFile a = v2Files[i], b = v1Files[i];
            bool relevantA = !a.IsPadding && a.Length > 0, relevantB = !b.IsPadding && b.Length > 0;
            if (relevantA != relevantB || (relevantA && (a.Length != b.Length || offset1 != offset2 || a.JoinedPath != b.JoinedPath)))
            {
                throw new MetainfoException($"hybrid torrent: file #{i} differs between the v1 'files' list ('{TorrentPathRules.Printable(b.JoinedPath)}', "
                    + $"{b.Length} bytes) and the v2 'file tree' ('{TorrentPathRules.Printable(a.JoinedPath)}', {a.Length} bytes)");
            }
            if (relevantA && a.SymlinkPath is not null && (b.SymlinkPath is null || !a.SymlinkPath.SequenceEqual(b.SymlinkPath)))
                throw new MetainfoException($"hybrid torrent: the link '{TorrentPathRules.Printable(a.JoinedPath)}' points elsewhere in the v1 'files' list");
            offset2 += a.Length;
            offset1 += b.Length;
        }
        if (offset1 != offset2) throw new MetainfoException("hybrid torrent: the v1 'files' list and the v2 'file tree' differ in total size");
        return v2Files;
    }

    private static void RemoveTailPadding(List<ParsedFile> files)
    {
        for (int i = files.Count - 1; i >= 0; i--)
        {
            if (files[i].Length == 0) continue; // empty files and links after the padding stay
            if (files[i].IsPadding) files.RemoveAt(i);
            return;
        }
    }
}
