using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// The torrent actor's reactions to the disk: a piece hashed (verified or failed) and a write that failed.
/// Runs on the actor's loop only.
/// </summary>
internal sealed partial class TorrentActor
{
    private void OnPieceHashed(int piece, BlockWriteResult result)
    {
        if (result == BlockWriteResult.PieceVerified)
        {
            _smartBan.OnPieceVerified(piece);
            if (_t.Have[piece]) return;
            _t.Have[piece] = true;
            if (_t.IsWanted(piece)) _t.VerifiedBytes += _t.Torrent!.GetPieceSize(piece);
            _t.Picker!.OnPieceVerified(piece);
            _availability.OnPieceVerified(piece);
            _files?.OnPieceVerified(piece, _onFileCompleted ??= OnFileCompleted);
            if (_waiters.Count > 0) WakeWaiters();
            if (_t.Picker.IsComplete) EnterSeeding();
            return;
        }
        _t.FailedPieces++;
        _t.Picker!.OnPieceFailed(piece);
        _t.Log($"piece {piece} failed its hash check; fetching it again");
        _smartBan.OnPieceFailed(piece);
        _hashes.RequestBlockHashes(piece); // v2: the right block hashes name the bad blocks without a second download
    }

    /// <summary>
    /// A write failed. Transient storage errors (disk full, a vanished file) pause the download and retry later;
    /// the piece whose blocks were dropped is fetched again. A permanent one (read-only folder, access denied, a
    /// name too long) stops the torrent with that error: retrying cannot help. Anything else is a bug: the torrent
    /// stops with the error rather than guessing.
    /// </summary>
    private void OnDiskFailed(int piece, Exception error)
    {
        if (error is not StorageException storage || storage.IsPermanent)
        {
            Fail(error);
            return;
        }
        if (!_t.Have[piece]) _t.Picker?.OnPieceFailed(piece);
        _smartBan.Forget(piece);
        if (_diskPause.Pause(storage)) _snapshots.Publish();
    }
}
