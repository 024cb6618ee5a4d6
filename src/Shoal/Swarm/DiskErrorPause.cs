using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// What a transient storage error (a full disk, a vanished file) does to a torrent: it stops asking for blocks,
/// cancels what is in flight (those would only fail the same way), keeps uploading, and tries writing again every
/// <see cref="RetryInterval"/>.
/// </summary>
internal sealed class DiskErrorPause(TorrentContext torrent, BlockRequester requester)
{
    /// <summary>How long a paused torrent waits before it tries writing again.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    private long _pausedAt;

    /// <summary>Pauses the download on <paramref name="error"/>; false when it was paused already.</summary>
    public bool Pause(StorageException error)
    {
        if (torrent.State == TorrentState.Paused || torrent.UserPaused) return false;
        torrent.State = TorrentState.Paused;
        torrent.Error = error.Message;
        _pausedAt = torrent.Now();
        foreach (PeerConnection peer in torrent.Peers.All) requester.CancelAll(peer);
        torrent.Log($"paused: {error.Message}; retrying every {RetryInterval.TotalSeconds:0} s");
        return true;
    }

    /// <summary>Resumes downloading once the retry interval has passed.</summary>
    public void OnTick(long now)
    {
        if (torrent.State != TorrentState.Paused || torrent.Time.GetElapsedTime(_pausedAt, now) < RetryInterval) return;
        torrent.State = TorrentState.Downloading;
        torrent.Error = null;
        torrent.Log("retrying after the disk error");
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            requester.UpdateInterest(peer); // peers that joined during the pause were never told we want their pieces
            requester.RequestMore(peer);
        }
    }
}
