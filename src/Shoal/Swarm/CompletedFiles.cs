using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>The torrent's step between "every piece verified" and "complete": BEP 47's attributes on the files.</summary>
internal static class CompletedFiles
{
    /// <summary>
    /// Applies executable bits and symbolic links (inside the torrent) on the disk pool when the torrent asks for any,
    /// and logs what could not be done; never throws. Seed-only torrents are left as they are.
    /// </summary>
    public static async Task ApplyAsync(TorrentContext torrent, CancellationToken cancellationToken)
    {
        if (torrent.Storage is not { Layout.NeedsFinishing: true } storage || torrent.Options.SeedOnly) return;
        try
        {
            foreach (string problem in await storage.FinishFilesAsync(cancellationToken).ConfigureAwait(false)) torrent.Log(problem);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            torrent.Log($"file attributes (executable, links) not applied: {e.Message}");
        }
    }
}
