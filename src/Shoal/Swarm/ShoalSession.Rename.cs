using System.Buffers.Binary;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Swarm;

// Renaming a torrent's files and folders on disk and in its layout, kept across restarts by its resume data.
public sealed partial class ShoalSession
{
    /// <summary>
    /// Gives the torrent's files new paths (<paramref name="rename"/> maps the current renames to the new ones): the torrent
    /// stops (resume data saved, files closed), the files present on disk move (nothing overwritten, a failure puts back
    /// what moved), the renames join its resume data, and it starts again under the same handle, paused if it was, trusting
    /// what it had verified. When the renames are invalid (<see cref="ArgumentException"/>) nothing stops; when the move
    /// fails the torrent starts again as it was and the <see cref="IOException"/> is thrown.
    /// </summary>
    internal async Task RenameAsync(SessionTorrent entry, Func<Torrent, IReadOnlyDictionary<int, string>?, Dictionary<int, string>> rename)
    {
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfRemoved(entry);
            TorrentActor old = entry.Actor;
            if (old.Torrent is not { } torrent) throw new InvalidOperationException($"{old.Name}: its file list is not known yet (metadata still being fetched)");
            TorrentOptions options = await OptionsOfAsync(old).ConfigureAwait(false);
            if (options.Storage is not null) throw new InvalidOperationException($"{old.Name}: its bytes live in the embedder's storage, which has no file names");
            IReadOnlyDictionary<int, string>? before = options.RenamedFiles;
            Dictionary<int, string> after = rename(torrent, before);
            // A file given its own name back is not renamed any more.
            foreach (int index in after.Where(r => (uint)r.Key < (uint)torrent.Files.Count && r.Value == torrent.Files[r.Key].Path).Select(r => r.Key).ToList()) after.Remove(index);
            RenamedPaths.Validate(torrent, after);
            string root = StoragePaths.NormalizeRoot(options.DownloadDirectory);
            var moves = new List<(string From, string To)>();
            for (int i = 0; i < torrent.Files.Count; i++)
            {
                if (torrent.Files[i].IsPadding) continue;
                string from = StoragePaths.Resolve(root, RenamedPaths.Segments(torrent, i, before));
                string to = StoragePaths.Resolve(root, RenamedPaths.Segments(torrent, i, after));
                if (!string.Equals(from, to, StringComparison.Ordinal) && File.Exists(from)) moves.Add((from, to));
            }
            await RestartAroundFilesAsync(entry, old, torrent, options, async startWith =>
            {
                await Task.Run(() => TorrentData.MoveFiles(moves, root, root, "renaming files of " + torrent.Name)).ConfigureAwait(false);
                startWith(options with { RenamedFiles = after.Count == 0 ? null : after });
                await SaveRenamesAsync(torrent.InfoHash, options.DownloadDirectory, after).ConfigureAwait(false);
                _context.Log($"{torrent.Name}: {moves.Count} file(s) renamed on disk");
            }).ConfigureAwait(false);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>
    /// Writes the renames into the stopped torrent's resume data at once, so a crash before its next save cannot lose them
    /// (the torrent would look for its files under their old names). Without resume data there is nothing to write: the
    /// embedder keeps them (<see cref="TorrentOptions.RenamedFiles"/>).
    /// </summary>
    private async Task SaveRenamesAsync(InfoHash infoHash, string downloadDirectory, IReadOnlyDictionary<int, string> renamed)
    {
        if (_context.Options.ResumeStore is { } store)
        {
            if (store.Load(infoHash, downloadDirectory) is not { } bytes || ResumeFile.TryParse(bytes, infoHash, out _) is not { } data) return;
            await store.SaveAsync(infoHash, downloadDirectory, ResumeFile.Serialize(data.WithRenamedFiles(renamed))).ConfigureAwait(false);
        }
        else if (_context.Options.ResumeDirectory is { } folder)
        {
            string path = ResumeSaver.PathFor(folder, infoHash, downloadDirectory);
            if (ResumeFile.TryLoad(path, infoHash, out _) is not { } data) return;
            await _context.ResumeWriter.SaveAsync(path, data.WithRenamedFiles(renamed)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The options with the renamed files of the torrent's resume data when the caller named none (a torrent added again
    /// after a restart finds its files where they were renamed to); checks the renames either way.
    /// </summary>
    private TorrentOptions WithRenamedFiles(Torrent torrent, TorrentOptions options)
    {
        if (options.RenamedFiles is { } given)
        {
            RenamedPaths.Validate(torrent, given);
            return options;
        }
        if (options.Storage is not null || LoadRenamedFiles(torrent.InfoHash, options.DownloadDirectory) is not { Count: > 0 } saved) return options;
        try
        {
            RenamedPaths.Validate(torrent, saved);
        }
        catch (ArgumentException ex)
        {
            _context.Log($"{torrent.Name}: renamed files in its resume data ignored ({ex.Message})");
            return options;
        }
        return options with { RenamedFiles = saved };
    }

    /// <summary>The renamed files in the resume data of a torrent in a folder; null when there are none (the common case costs a 12-byte read).</summary>
    private IReadOnlyDictionary<int, string>? LoadRenamedFiles(InfoHash infoHash, string downloadDirectory)
    {
        try
        {
            byte[]? bytes = null;
            if (_context.Options.ResumeStore is { } store)
            {
                bytes = store.Load(infoHash, downloadDirectory);
            }
            else if (_context.Options.ResumeDirectory is { } folder)
            {
                string path = ResumeSaver.PathFor(folder, infoHash, downloadDirectory);
                if (!File.Exists(path) || !HasRenames(path)) return null;
                bytes = File.ReadAllBytes(path);
            }
            if (bytes is null || bytes.Length < 12 || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)) == ResumeFile.FormatVersion) return null;
            return ResumeFile.TryParse(bytes, infoHash, out _)?.RenamedFiles;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The actor logs unreadable resume data when it loads it; without its renames it finds no file and checks.
            return null;
        }
    }

    /// <summary>True when the resume file is not of the plain format (it may carry renamed files).</summary>
    private static bool HasRenames(string path)
    {
        Span<byte> head = stackalloc byte[12];
        using FileStream stream = File.OpenRead(path);
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return false;
        return BinaryPrimitives.ReadInt32LittleEndian(head[8..]) != ResumeFile.FormatVersion;
    }
}
