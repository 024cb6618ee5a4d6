namespace Shoal.Storage;

/// <summary>
/// Keeps whole copies of the pieces that straddle a skipped file and a selected one, one small file per piece in a
/// hidden folder of the download directory (<see cref="StorageOptions.PartsDirectory"/>), as libtorrent's part file
/// does. The skipped file itself is never created; without these copies such a piece could not be read back: it
/// could neither be uploaded nor rechecked after a restart, and was downloaded again on every start.
/// </summary>
/// <remarks>
/// Only wanted pieces that touch a skipped file are kept, so there are at most two per run of selected files. A copy
/// is written to a temporary name, flushed and renamed, so a copy is either whole or absent; it is never trusted
/// blindly anyway: a piece that touches a skipped file is hashed on every start, from its files and this copy.
/// Disk workers only (synchronous I/O).
/// </remarks>
internal sealed class PieceParts
{
    private const string Extension = ".piece";
    private readonly string _directory;
    private readonly StorageLayout _layout;

    public PieceParts(string directory, StorageLayout layout)
    {
        _directory = directory;
        _layout = layout;
    }

    /// <summary>The folder the copies live in.</summary>
    public string Directory => _directory;

    private string PathOf(int piece) => Path.Combine(_directory, piece.ToString(System.Globalization.CultureInfo.InvariantCulture) + Extension);

    /// <summary>Stores the whole verified <paramref name="data"/> of <paramref name="piece"/>, durably.</summary>
    /// <exception cref="StorageException">The copy could not be written.</exception>
    public void Write(int piece, ReadOnlySpan<byte> data)
    {
        string path = PathOf(piece);
        string tmp = path + ".tmp";
        try
        {
            System.IO.Directory.CreateDirectory(_directory);
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.None))
            {
                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw StorageException.From(e, "write", path);
        }
    }

    /// <summary>True when a copy of <paramref name="piece"/> of the right size exists.</summary>
    public bool Exists(int piece)
    {
        var info = new FileInfo(PathOf(piece));
        return info.Exists && info.Length == _layout.GetPieceSize(piece);
    }

    /// <summary>
    /// Fills <paramref name="destination"/> from the copy of <paramref name="piece"/>, from <paramref name="offsetInPiece"/>.
    /// False when there is no whole copy (never written, deleted, or of the wrong size).
    /// </summary>
    public bool TryRead(int piece, int offsetInPiece, Span<byte> destination)
    {
        string path = PathOf(piece);
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (RandomAccess.GetLength(handle) != _layout.GetPieceSize(piece)) return false;
            while (!destination.IsEmpty)
            {
                int n = RandomAccess.Read(handle, destination, offsetInPiece);
                if (n == 0) return false;
                destination = destination[n..];
                offsetInPiece += n;
            }
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e)
        {
            throw StorageException.From(e, "read", path);
        }
    }

    /// <summary>
    /// Deletes the copies of pieces that no longer need one (<paramref name="needed"/> false: a file was selected, or
    /// the copy is of another layout), leftovers of interrupted writes, and the folder when it ends up empty.
    /// Errors are ignored: a stale copy costs disk space, never correctness.
    /// </summary>
    public void DeleteUnneeded(Func<int, bool> needed)
    {
        try
        {
            if (!System.IO.Directory.Exists(_directory)) return;
            foreach (string file in System.IO.Directory.EnumerateFiles(_directory))
            {
                string name = Path.GetFileName(file);
                bool keep = name.EndsWith(Extension, StringComparison.Ordinal)
                    && int.TryParse(name.AsSpan(0, name.Length - Extension.Length), System.Globalization.NumberStyles.None,
                        System.Globalization.CultureInfo.InvariantCulture, out int piece)
                    && (uint)piece < (uint)_layout.PieceCount && needed(piece);
                if (!keep) File.Delete(file);
            }
            if (!System.IO.Directory.EnumerateFileSystemEntries(_directory).Any()) System.IO.Directory.Delete(_directory);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
