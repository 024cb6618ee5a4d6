using System.Buffers.Binary;
using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// Reads and writes <see cref="ResumeData"/> files: a compact versioned binary format ending with a SHA-1 of
/// everything before it, written atomically (temp file, fsync, rename over the old one).
/// </summary>
/// <remarks>
/// <para>Layout (little-endian): magic "SHOALRSM" (8 bytes), version u32 (1, or 2 with renamed files), info-hash (20),
/// piece length i32, piece count i32, file count i32, captured-at UTC ticks i64, the verified bitfield in wire layout
/// (ceil(pieces / 8) bytes, spare bits zero), per file: length i64 (-1 = absent) and last-write UTC ticks i64; in
/// version 2 then the renamed files: count i32, and per renamed file its index i32, the byte length i32 of its UTF-8
/// path and the path; then SHA-1 (20) of all preceding bytes. The file length must be exactly what the counts imply.
/// Data without renamed files is written as version 1, which earlier readers read.</para>
/// <para>Version 3 (<see cref="HashTreesFormatVersion"/>) is written for a v2 or hybrid torrent whose merkle trees learned
/// something worth keeping: the renamed files as in version 2 (their count may be 0), then the length i32 and the bytes
/// of the hash-tree section (<see cref="HashTreeResume"/>; its hashes are proved again when taken back), then the
/// checksum.</para>
/// <para>A torn, truncated or otherwise corrupt file fails the checksum or the size rule and is ignored: the
/// caller then checks every piece, which is slow but always correct.</para>
/// </remarks>
public static class ResumeFile
{
    /// <summary>The format version of resume data without renamed files, which every version of this code reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The format version of resume data with renamed files (the same, followed by them).</summary>
    private const int RenamesVersion = 2;

    /// <summary>The format version of resume data with a v2 hash-tree section (after the renamed files, which may be none).</summary>
    internal const int HashTreesFormatVersion = 3;

    /// <summary>Largest resume file accepted (bounded read): far above any real torrent (10^6 pieces and 10^5 files is ~1.7 MB).</summary>
    public const int MaxFileBytes = 64 * 1024 * 1024;

    private static ReadOnlySpan<byte> Magic => "SHOALRSM"u8;
    private const int HeaderSize = 8 + 4 + InfoHash.Length + 4 + 4 + 4 + 8;
    private const int FileEntrySize = 16;
    private const int ChecksumSize = 20;

    /// <summary>Encodes <paramref name="data"/> in the resume format.</summary>
    public static byte[] Serialize(ResumeData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<byte> bits = data.VerifiedBytes;
        (int Index, byte[] Path)[] renamed = [.. data.RenamedFiles.OrderBy(r => r.Key).Select(r => (r.Key, System.Text.Encoding.UTF8.GetBytes(r.Value)))];
        byte[]? trees = data.HashTrees;
        int version = trees is not null ? HashTreesFormatVersion : renamed.Length > 0 ? RenamesVersion : FormatVersion;
        long renamedSize = version == FormatVersion ? 0 : 4 + renamed.Sum(r => 8L + r.Path.Length);
        long size = (long)HeaderSize + bits.Length + (long)data.Files.Count * FileEntrySize + renamedSize + (trees is null ? 0 : 4L + trees.Length) + ChecksumSize;
        if (size > MaxFileBytes) throw new ArgumentException($"resume data of {size} bytes exceeds {MaxFileBytes}", nameof(data));
        var buffer = new byte[size];
        Span<byte> s = buffer;
        Magic.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], version);
        data.InfoHash.Span.CopyTo(s[12..]);
        int at = 12 + InfoHash.Length;
        BinaryPrimitives.WriteInt32LittleEndian(s[at..], data.PieceLength);
        BinaryPrimitives.WriteInt32LittleEndian(s[(at + 4)..], data.PieceCount);
        BinaryPrimitives.WriteInt32LittleEndian(s[(at + 8)..], data.Files.Count);
        BinaryPrimitives.WriteInt64LittleEndian(s[(at + 12)..], data.CapturedUtcTicks);
        at = HeaderSize;
        bits.CopyTo(s[at..]);
        at += bits.Length;
        foreach (ResumeFileState f in data.Files)
        {
            BinaryPrimitives.WriteInt64LittleEndian(s[at..], f.Length);
            BinaryPrimitives.WriteInt64LittleEndian(s[(at + 8)..], f.LastWriteUtcTicks);
            at += FileEntrySize;
        }
        if (version != FormatVersion)
        {
            BinaryPrimitives.WriteInt32LittleEndian(s[at..], renamed.Length);
            at += 4;
            foreach ((int index, byte[] path) in renamed)
            {
                BinaryPrimitives.WriteInt32LittleEndian(s[at..], index);
                BinaryPrimitives.WriteInt32LittleEndian(s[(at + 4)..], path.Length);
                path.CopyTo(s[(at + 8)..]);
                at += 8 + path.Length;
            }
        }
        if (trees is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(s[at..], trees.Length);
            trees.CopyTo(s[(at + 4)..]);
            at += 4 + trees.Length;
        }
        SHA1.HashData(s[..at], s[at..]);
        return buffer;
    }

    /// <summary>
    /// Decodes resume data. Returns null, with a <paramref name="reason"/> for the log, when the bytes are not a
    /// valid resume file (format version 1, 2 or 3) for <paramref name="expected"/>. Never throws
    /// on bad content.
    /// </summary>
    public static ResumeData? TryParse(ReadOnlySpan<byte> bytes, InfoHash expected, out string? reason)
    {
        if (bytes.Length < HeaderSize + ChecksumSize) { reason = $"too short ({bytes.Length} bytes)"; return null; }
        if (!bytes[..8].SequenceEqual(Magic)) { reason = "not a resume file (bad magic)"; return null; }
        int version = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        if (version is not (FormatVersion or RenamesVersion or HashTreesFormatVersion)) { reason = $"unsupported format version {version}"; return null; }
        Span<byte> digest = stackalloc byte[ChecksumSize];
        SHA1.HashData(bytes[..^ChecksumSize], digest);
        if (!digest.SequenceEqual(bytes[^ChecksumSize..])) { reason = "checksum mismatch (torn or corrupt file)"; return null; }

        var infoHash = new InfoHash(bytes.Slice(12, InfoHash.Length));
        int at = 12 + InfoHash.Length;
        int pieceLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
        int pieceCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 4)..]);
        int fileCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 8)..]);
        long captured = BinaryPrimitives.ReadInt64LittleEndian(bytes[(at + 12)..]);
        if (infoHash != expected) { reason = $"info-hash {infoHash} is not the expected {expected}"; return null; }
        if (pieceLength <= 0 || pieceCount < 0 || fileCount < 0)
        {
            reason = $"bad counts (piece length {pieceLength}, {pieceCount} pieces, {fileCount} files)";
            return null;
        }
        int bitBytes = (int)(((long)pieceCount + 7) / 8);
        long expectedSize = (long)HeaderSize + bitBytes + (long)fileCount * FileEntrySize + ChecksumSize;
        if (version == FormatVersion ? expectedSize != bytes.Length : expectedSize + 4 > bytes.Length)
        {
            reason = $"size {bytes.Length} does not match the counts (expected {expectedSize})";
            return null;
        }

        var field = new BitField(pieceCount);
        ReadOnlySpan<byte> bits = bytes.Slice(HeaderSize, bitBytes);
        int spare = bitBytes * 8 - pieceCount;
        if (spare > 0 && (bits[^1] & ((1 << spare) - 1)) != 0) { reason = "bitfield has spare bits set"; return null; }
        field.LoadFrom(bits);

        var files = new ResumeFileState[fileCount];
        at = HeaderSize + bitBytes;
        for (int i = 0; i < files.Length; i++, at += FileEntrySize)
        {
            long length = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
            long ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes[(at + 8)..]);
            if (length < -1) { reason = $"file {i} has length {length}"; return null; }
            files[i] = new ResumeFileState(length, ticks);
        }
        Dictionary<int, string>? renamed = null;
        byte[]? trees = null;
        if (version != FormatVersion)
        {
            ReadOnlySpan<byte> rest = bytes[at..^ChecksumSize];
            renamed = ReadRenamed(rest, fileCount, allowNone: version == HashTreesFormatVersion, out int used, out reason);
            if (renamed is null) return null;
            rest = rest[used..];
            if (version == RenamesVersion && rest.Length != 0) { reason = $"size {rest.Length} bytes too long"; return null; }
            if (version == HashTreesFormatVersion)
            {
                if (rest.Length < 4) { reason = "hash-tree section cut short"; return null; }
                int treeBytes = BinaryPrimitives.ReadInt32LittleEndian(rest);
                if (treeBytes < 0 || treeBytes != rest.Length - 4) { reason = $"size {bytes.Length} does not match a hash-tree section of {treeBytes} bytes"; return null; }
                trees = rest[4..].ToArray();
            }
        }
        reason = null;
        return new ResumeData(infoHash, pieceLength, field, files, captured)
        {
            RenamedFiles = renamed is { Count: > 0 } ? renamed : ResumeData.NoRenamedFiles,
            HashTrees = trees,
        };
    }

    /// <summary>
    /// The renamed files of a version 2 or 3 file (at the start of what follows the file entries) and the bytes they take
    /// (<paramref name="used"/>); null when malformed. Version 2 always has one at least; version 3 may have none.
    /// </summary>
    private static Dictionary<int, string>? ReadRenamed(ReadOnlySpan<byte> rest, int fileCount, bool allowNone, out int used, out string? reason)
    {
        used = 0;
        if (rest.Length < 4) { reason = "renamed files cut short"; return null; }
        int count = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (count < (allowNone ? 0 : 1) || count > fileCount) { reason = $"{count} renamed files of {fileCount}"; return null; }
        var renamed = new Dictionary<int, string>(count);
        int at = 4;
        for (int i = 0; i < count; i++)
        {
            if (rest.Length - at < 8) { reason = "renamed files cut short"; return null; }
            int index = BinaryPrimitives.ReadInt32LittleEndian(rest[at..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(rest[(at + 4)..]);
            at += 8;
            if ((uint)index >= (uint)fileCount || length <= 0 || length > RenamedPaths.MaxPathLength * 4 || rest.Length - at < length)
            {
                reason = $"renamed file {index} is malformed";
                return null;
            }
            string path;
            try
            {
                path = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(rest.Slice(at, length));
                RenamedPaths.Split(path);
            }
            catch (Exception ex) when (ex is ArgumentException)
            {
                reason = $"renamed file {index} has a bad path ({ex.Message})";
                return null;
            }
            if (!renamed.TryAdd(index, path)) { reason = $"file {index} is renamed twice"; return null; }
            at += length;
        }
        used = at;
        reason = null;
        return renamed;
    }

    /// <summary>
    /// Writes <paramref name="data"/> to <paramref name="path"/> atomically: to <c>path + ".tmp"</c> first, flushed
    /// to the device, then renamed over <paramref name="path"/> (atomic on POSIX and NTFS). A crash at any point
    /// leaves either the previous file or the new one, never a mix; a failure leaves the previous file untouched.
    /// Blocking (fsync): call it off any actor or network loop. Throws <see cref="StorageException"/> on I/O failure.
    /// </summary>
    /// <remarks>
    /// Contract: the data the snapshot vouches for must be durable before this is called - which
    /// <see cref="TorrentStorage.CaptureResumeAsync"/> guarantees by flushing before it stats the files. Never save
    /// a <see cref="ResumeData"/> built by hand from pieces whose bytes may not have reached the disk.
    /// </remarks>
    public static void Save(string path, ResumeData data)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Serialize(data);
        string tmp = path + ".tmp";
        bool created = false;
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.None))
            {
                created = true;
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            created = false;
        }
        catch (Exception e)
        {
            if (created)
            {
                try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            throw StorageException.From(e, "save resume data to", path);
        }
    }

    /// <summary>
    /// Saves several resume files with one flush for the batch: each is written to its temp file, everything is made
    /// durable at once (<c>syncfs</c> on Linux when every temp file is in one folder; otherwise, or when that fails,
    /// each temp file is flushed), then each is renamed over its old file. The same contract as <see cref="Save"/>
    /// applies to every entry, and a crash at any point leaves each file either old or new. Returns the entries that
    /// could not be saved, each with its error (the others are saved).
    /// </summary>
    /// <remarks>
    /// Why <c>syncfs</c>: on a journalling file system each <c>fsync</c> of a small new file commits the journal, so
    /// 10,000 torrents saving one after the other cost 10,000 commits (seconds); one <c>syncfs</c> is one commit. It
    /// also writes back other dirty data of that file system, which the batch then waits for: the price of one flush
    /// instead of thousands.
    /// </remarks>
    public static IReadOnlyList<(string Path, StorageException Error)> SaveBatch(IReadOnlyList<(string Path, ResumeData Data)> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var failed = new List<(string, StorageException)>();
        var written = new List<(string Path, string Tmp)>(batch.Count);
        foreach ((string path, ResumeData data) in batch)
        {
            string tmp = path + ".tmp";
            try
            {
                byte[] bytes = Serialize(data);
                string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
                if (dir is not null) Directory.CreateDirectory(dir);
                File.WriteAllBytes(tmp, bytes);
                written.Add((path, tmp));
            }
            catch (Exception e)
            {
                TryDelete(tmp);
                failed.Add((path, StorageException.From(e, "save resume data to", path)));
            }
        }
        if (written.Count == 0) return failed;
        if (!SyncAll(written))
        {
            foreach ((string path, string tmp) in written) TryDelete(tmp);
            foreach ((string path, _) in written) failed.Add((path, new StorageException(StorageErrorKind.IOError, path, $"Cannot make resume data durable: '{path}'")));
            return failed;
        }
        foreach ((string path, string tmp) in written)
        {
            try
            {
                File.Move(tmp, path, overwrite: true);
            }
            catch (Exception e)
            {
                TryDelete(tmp);
                failed.Add((path, StorageException.From(e, "save resume data to", path)));
            }
        }
        return failed;
    }

    private static bool SyncAll(List<(string Path, string Tmp)> written)
    {
        try
        {
            // One flush of the file system when every temp file is in one folder (the usual: the session's resume folder).
            string? folder = Path.GetDirectoryName(written[0].Tmp);
            if (written.TrueForAll(w => Path.GetDirectoryName(w.Tmp) == folder))
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle first = File.OpenHandle(written[0].Tmp, FileMode.Open, FileAccess.Read);
                if (LinuxFileIo.TrySyncFileSystem(first)) return true;
            }
            foreach ((_, string tmp) in written)
            {
                using var stream = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
                stream.Flush(flushToDisk: true);
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Reads the resume file at <paramref name="path"/>. Returns null when there is none (<paramref name="reason"/>
    /// null), or when it cannot be read or is not valid resume data for <paramref name="expected"/> (reason says why,
    /// for the log; the caller then checks everything). Never throws for bad content or I/O errors.
    /// </summary>
    public static ResumeData? TryLoad(string path, InfoHash expected, out string? reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.None);
            long length = stream.Length;
            if (length > MaxFileBytes) { reason = $"'{path}' is {length} bytes, more than {MaxFileBytes}"; return null; }
            bytes = new byte[length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            reason = null;
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot read '{path}': {e.Message}";
            return null;
        }
        ResumeData? data = TryParse(bytes, expected, out reason);
        if (data is null) reason = $"'{path}': {reason}";
        return data;
    }
}
