using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Swarm;

// What a caller does to a torrent's data on disk through the session: removing a torrent with its data, and moving
// its data to another folder while the torrent stays in the session.
public sealed partial class ShoalSession
{
    /// <summary>
    /// Removes the torrent, then (its files closed) deletes its resume data and its data (<see cref="TorrentData.Delete"/>).
    /// Returns the problems met deleting. A torrent whose bytes live in the embedder's storage has no files to delete.
    /// </summary>
    internal async Task<IReadOnlyList<string>> RemoveWithDataAsync(SessionTorrent entry)
    {
        ThrowIfRemoved(entry);
        await RemoveAsync(entry).ConfigureAwait(false);
        // Stopped now: the loop has ended, so its options and metainfo are final.
        TorrentActor actor = entry.Actor;
        actor.ForgetResume();
        TorrentOptions options = actor.Options;
        if (options.Storage is not null) return [];
        IReadOnlyList<string> problems = await Task.Run(() => TorrentData.Delete(actor.Torrent, actor.InfoHash, options.DownloadDirectory, options.RenamedFiles)).ConfigureAwait(false);
        foreach (string problem in problems) _context.Log($"{actor.Name}: not deleted: {problem}");
        return problems;
    }

    /// <summary>
    /// Moves the torrent's data to <paramref name="downloadDirectory"/>: the torrent stops (peers closed, resume data
    /// saved, files closed), its files move (<see cref="TorrentData.Move"/>) and its resume data follows, then it starts
    /// again from there under the same handle, paused if it was, trusting the pieces it had verified (no recheck).
    /// When the move fails nothing has moved: the torrent starts again where it was and the <see cref="IOException"/>
    /// is thrown.
    /// </summary>
    internal async Task MoveStorageAsync(SessionTorrent entry, string downloadDirectory, CancellationToken cancellationToken)
    {
        string to = Path.GetFullPath(downloadDirectory);
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRemoved(entry);
            TorrentActor old = entry.Actor;
            if (old.Torrent is not { } torrent) throw new InvalidOperationException($"{old.Name}: its metadata is not known yet, so it has no data to move");
            TorrentOptions options = await OptionsOfAsync(old).ConfigureAwait(false);
            if (options.Storage is not null) throw new InvalidOperationException($"{old.Name}: its bytes live in the embedder's storage, not in a folder");
            string from = Path.GetFullPath(options.DownloadDirectory);
            if (string.Equals(StoragePaths.NormalizeRoot(from), StoragePaths.NormalizeRoot(to), StringComparison.Ordinal)) return;
            await RestartAroundFilesAsync(entry, old, torrent, options, async startWith =>
            {
                await Task.Run(() => TorrentData.Move(torrent, torrent.InfoHash, from, to, options.RenamedFiles), CancellationToken.None).ConfigureAwait(false);
                startWith(options with { DownloadDirectory = to });
                await MoveResumeAsync(torrent.InfoHash, options.DownloadDirectory, to).ConfigureAwait(false);
                _context.Log($"{torrent.Name}: data moved from {from} to {to}");
            }).ConfigureAwait(false);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The options of a torrent as they are now; those it stopped with when it stopped on an error (its loop has ended).</summary>
    private static async Task<TorrentOptions> OptionsOfAsync(TorrentActor actor)
    {
        try
        {
            return await actor.InvokeAsync(() => actor.CurrentOptions).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            return actor.Options;
        }
    }

    /// <summary>
    /// Stops the torrent, runs <paramref name="changeFiles"/> on its files, and starts it again under the same handle
    /// with <paramref name="options"/>, or with the options <paramref name="changeFiles"/> hands to its argument once the
    /// files have changed (a later step failing then still starts the torrent where its files are). A failure
    /// (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>) is logged and thrown as an
    /// <see cref="IOException"/> after the torrent started again. Under the entry's gate.
    /// </summary>
    private async Task RestartAroundFilesAsync(SessionTorrent entry, TorrentActor old, Torrent torrent, TorrentOptions options, Func<Action<TorrentOptions>, Task> changeFiles)
    {
        await StopAnnouncingAsync(entry).ConfigureAwait(false);
        await old.StopAsync().ConfigureAwait(false);
        Exception? failure = null;
        try
        {
            await changeFiles(changed => options = changed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failure = ex as IOException ?? new IOException(ex.Message, ex);
            _context.Log($"{torrent.Name}: {failure.Message}");
        }
        ReplaceActor(entry, old, torrent, options);
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>
    /// Carries a stopped torrent's resume data from one download folder to another (the session's resume files or the
    /// embedder's store are keyed by both). Failures are logged: the torrent then checks its data at the new place.
    /// </summary>
    private async Task MoveResumeAsync(InfoHash infoHash, string fromDirectory, string toDirectory)
    {
        try
        {
            if (_context.Options.ResumeStore is { } store)
            {
                if (store.Load(infoHash, fromDirectory) is not { } data) return;
                // Deleted first: a store that ignores the folder keeps the saved copy.
                store.Delete(infoHash, fromDirectory);
                await store.SaveAsync(infoHash, toDirectory, data).ConfigureAwait(false);
            }
            else if (_context.Options.ResumeDirectory is { } folder)
            {
                string source = ResumeSaver.PathFor(folder, infoHash, fromDirectory);
                if (File.Exists(source)) File.Move(source, ResumeSaver.PathFor(folder, infoHash, toDirectory), overwrite: true);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The store is the embedder's code: whatever it throws costs a check at the new place, not the move.
            _context.Log($"resume data of {infoHash} not carried to {toDirectory} ({ex.Message}); the data will be checked there");
        }
    }
}
