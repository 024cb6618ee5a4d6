using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// Across torrents (BEP 52): a file's <c>pieces root</c> names its content, so when a v2 or hybrid torrent is added
/// and another torrent of the session already holds a complete, verified file with the same root and length, that
/// file is copied into the new torrent's place instead of being downloaded again. The new torrent's check then
/// verifies the copy like any data found on disk: nothing is trusted because of the root alone.
/// </summary>
/// <remarks>
/// Never overwrites: a file that already exists at the target is left alone (the check judges it). The copy goes to a
/// temporary name beside the target and is renamed into place once whole, so a crash leaves no half file under the
/// real name. A copy that fails (disk full, permissions) is removed and logged; the file is then downloaded as usual.
/// </remarks>
internal static class IdenticalFiles
{
    /// <summary>Suffix of a copy in progress.</summary>
    public const string TemporarySuffix = ".shoal-reuse";

    private const int CopyBufferSize = 1 << 20;

    /// <summary>A complete torrent of the session and the folder its files are in.</summary>
    public readonly record struct Source(Torrent Torrent, string DownloadDirectory);

    /// <summary>
    /// Copies into <paramref name="downloadDirectory"/> every file of <paramref name="torrent"/> that one of
    /// <paramref name="sources"/> holds whole; returns how many files were copied.
    /// </summary>
    public static async Task<int> ReuseAsync(Torrent torrent, string downloadDirectory, IEnumerable<Source> sources, Action<string> log,
        CancellationToken cancellationToken)
    {
        if (!torrent.HasV2) return 0;
        var byRoot = new Dictionary<(Sha256Hash Root, long Length), string>();
        var sourceRoots = new Dictionary<string, string>(); // file -> its download folder
        foreach (Source source in sources)
        {
            if (!source.Torrent.HasV2) continue;
            string root = StoragePaths.NormalizeRoot(source.DownloadDirectory);
            foreach (TorrentFile file in source.Torrent.Files)
            {
                if (!IsData(file)) continue;
                try
                {
                    string path = StoragePaths.Resolve(root, file.PathSegments);
                    if (byRoot.TryAdd((file.PiecesRoot!.Value, file.Length), path)) sourceRoots[path] = root;
                }
                catch (StorageException) { } // a path that cannot be in that folder holds nothing to reuse
            }
        }
        if (byRoot.Count == 0) return 0;

        string target = StoragePaths.NormalizeRoot(downloadDirectory);
        int copied = 0;
        foreach (TorrentFile file in torrent.Files)
        {
            if (!IsData(file) || !byRoot.TryGetValue((file.PiecesRoot!.Value, file.Length), out string? from)) continue;
            string to;
            try { to = StoragePaths.Resolve(target, file.PathSegments); }
            catch (StorageException) { continue; } // adding the torrent reports it
            if (File.Exists(to) || Directory.Exists(to) || new FileInfo(to).LinkTarget is not null) continue;
            if (!File.Exists(from) || new FileInfo(from).Length != file.Length) continue;
            // Never through a symbolic link below either download folder (the storage's rule too).
            if (NoFollowFile.FindLink(target, to) is not null || NoFollowFile.FindLink(sourceRoots[from], from) is not null) continue;
            if (await TryCopyAsync(target, from, to, log, cancellationToken).ConfigureAwait(false))
            {
                copied++;
                log($"{file.Path}: the same file (pieces root {file.PiecesRoot!.Value.ToHex()[..16]}…) is complete in another torrent; copied from {from} instead of downloading it");
            }
        }
        return copied;
    }

    private static bool IsData(TorrentFile file) => file.PiecesRoot is not null && !file.IsPadding && !file.IsSymlink && file.Length > 0;

    private static async Task<bool> TryCopyAsync(string root, string from, string to, Action<string> log, CancellationToken cancellationToken)
    {
        string temporary = to + TemporarySuffix;
        try
        {
            // Folders made and the file opened component by component without following links (openat, O_NOFOLLOW).
            using Microsoft.Win32.SafeHandles.SafeFileHandle handle = NoFollowFile.Open(root, temporary, create: true, allowWrite: true, out bool writable);
            if (!writable) throw new UnauthorizedAccessException($"'{temporary}' cannot be written");
            await using (var input = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var output = new FileStream(handle, FileAccess.Write, CopyBufferSize))
            {
                output.SetLength(0); // a copy a crash left behind starts over
                await input.CopyToAsync(output, CopyBufferSize, cancellationToken).ConfigureAwait(false);
            }
            File.Move(temporary, to, overwrite: false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException or StorageException)
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (ex is OperationCanceledException) throw;
            log($"could not copy {from} to {to}: {ex.Message}; downloading it instead");
            return false;
        }
    }
}
