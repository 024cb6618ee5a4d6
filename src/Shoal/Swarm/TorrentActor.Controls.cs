using System.Threading.Channels;
using Shoal.Metainfo;
using Shoal.Picking;

namespace Shoal.Swarm;

// The user's calls on a running torrent (pause, resume, priorities, sequential order, limits, reads that wait for
// pieces), each run on the actor's loop through a TorrentControl, and the events the torrent emits.
internal sealed partial class TorrentActor
{
    /// <summary>Reads waiting for pieces at most at once (a few streams, each one or two reads at a time).</summary>
    public const int MaxWaitingReads = 64;

    /// <summary>Pieces past a waiting read that get a (later) deadline too, so a stream reads ahead of its player.</summary>
    public const int ReadAheadPieces = 8;

    private readonly List<RangeWaiter> _waiters = [];
    private FileCompletion? _files;
    private Action<int>? _onFileCompleted;
    private bool _checkStarted;

    /// <summary>Runs <paramref name="work"/> on the loop; throws <see cref="InvalidOperationException"/> when the torrent has stopped.</summary>
    public async Task<T> InvokeAsync<T>(Func<T> work)
    {
        var control = new TorrentControl<T>(work);
        if (!TryPost(new TorrentEvent { Kind = TorrentEventKind.Control, Payload = control }))
        {
            try { await _mailbox.WriteAsync(new TorrentEvent { Kind = TorrentEventKind.Control, Payload = control }).ConfigureAwait(false); }
            catch (ChannelClosedException) { control.Abandon(); }
        }
        return await control.Task.ConfigureAwait(false);
    }

    /// <summary>The torrent's options as they are now (priorities, limits, pausing included). Loop only.</summary>
    public TorrentOptions CurrentOptions => _t.Options;

    /// <summary>Forgets this torrent's resume data (after it stopped: a recheck follows).</summary>
    public void ForgetResume() => _resume.Forget();

    /// <summary>The counters to carry into a new actor for the same torrent (a restart under the same handle).</summary>
    public (long Downloaded, long Uploaded) Counters => (Status.Downloaded, Status.Uploaded);

    /// <summary>Starts the counters from an earlier actor's (before <see cref="Start"/>).</summary>
    public void CarryCounters((long Downloaded, long Uploaded) counters)
    {
        _t.Downloaded = counters.Downloaded;
        _t.UploadedByClosedPeers = counters.Uploaded;
        _snapshots.PublishStatus();
    }

    /// <summary>The data check job runs (started, not ended): a pause lets it finish, without peers, shown as checking.</summary>
    private bool CheckRunning => _checkStarted && !_awaitingLayers && _t.Picker is null && _t.Torrent is not null;

    /// <summary>
    /// Pauses: closes every peer, saves resume data and closes the files; once the peers are gone the session's scheduler
    /// stops ticking the torrent (<see cref="UpdateScheduling"/>: a paused torrent dials nobody). A check under way goes
    /// on without peers (the status shows it checking) and the torrent is paused when it ends. False when paused already.
    /// </summary>
    /// <remarks><paramref name="shownAs"/> is the state the status shows meanwhile: <see cref="TorrentState.Suspended"/>
    /// (the user's pause) or <see cref="TorrentState.Queued"/> (the session's queue); a paused torrent takes the new one.</remarks>
    public bool Pause(TorrentState shownAs = TorrentState.Suspended)
    {
        if (_t.State is TorrentState.Error or TorrentState.Stopped) throw new InvalidOperationException($"the torrent is {_t.State.ToString().ToLowerInvariant()}");
        _t.PausedState = shownAs;
        if (_t.UserPaused)
        {
            _t.State = CheckRunning ? TorrentState.Checking : shownAs;
            _snapshots.PublishStatus();
            return false;
        }
        _t.UserPaused = true;
        _t.Options = _t.Options with { StartPaused = true };
        _t.State = CheckRunning ? TorrentState.Checking : shownAs;
        _t.Peers.CloseAll("torrent paused");
        _resume.SaveAndRelease();
        _snapshots.Publish();
        return true;
    }

    /// <summary>
    /// Makes a torrent that has not started yet start paused, shown as <paramref name="shownAs"/> (the queue takes every
    /// new torrent this way, then starts it at once when a slot is free: it never runs past the limits, not even briefly).
    /// </summary>
    public void PauseBeforeStart(TorrentState shownAs)
    {
        if (_started) throw new InvalidOperationException("the torrent has started");
        _t.UserPaused = true;
        _t.PausedState = shownAs;
        _t.State = shownAs;
        _t.Options = _t.Options with { StartPaused = true };
        _snapshots.PublishStatus();
    }

    /// <summary>Resumes a paused torrent where it was (a torrent added paused starts its check now). False when not paused.</summary>
    public bool Resume()
    {
        if (!_t.UserPaused) return false;
        _t.UserPaused = false;
        _t.Options = _t.Options with { StartPaused = false };
        _t.PeerList.ForgivePauses();
        // The scheduler takes the torrent back as peers join (UpdateScheduling after this call).
        if (_t.Torrent is null) _t.State = TorrentState.FetchingMetadata;
        else if (!_checkStarted)
        {
            StartCheck();
            return true;
        }
        else if (_awaitingLayers) _t.State = TorrentState.FetchingMetadata;
        else if (_t.Picker is null) _t.State = TorrentState.Checking;
        else _t.State = _t.Picker.IsComplete ? TorrentState.Seeding : TorrentState.Downloading;
        _snapshots.Publish();
        _admission.DialMore();
        return true;
    }

    /// <summary>
    /// Sets every file's priority (files past the list's end: normal). Applied at once, except when a file the storage
    /// was opened without becomes wanted: then nothing changes and false asks the caller to restart the torrent with
    /// <see cref="CurrentOptions"/> (which hold the new priorities), so the file gets storage of its own.
    /// </summary>
    public bool SetFilePriorities(IReadOnlyList<FilePriority> levels)
    {
        foreach (FilePriority level in levels)
            if (!Enum.IsDefined(level)) throw new ArgumentOutOfRangeException(nameof(levels), level, "not a file priority");
        _t.Options = _t.Options with { FilePriorities = [.. levels], SelectedFiles = null };
        if (_t.Torrent is not { } torrent || _t.Priorities is not { } priorities) return true; // applied when the check starts
        for (int f = 0; f < torrent.Files.Count; f++)
        {
            if (LevelOf(levels, f) != FilePriority.Skip && _t.StorageSkippedFiles?.Contains(f) == true && !torrent.Files[f].IsPadding) return false;
        }
        var changed = new List<int>();
        for (int f = 0; f < torrent.Files.Count; f++) priorities.SetFilePriority(f, LevelOf(levels, f), changed);
        if (changed.Count == 0) return true;
        if (_t.Picker is { } picker)
        {
            foreach (int piece in changed) picker.SetPiecePriority(piece, priorities.GetPiecePriority(piece));
        }
        long verified = 0;
        foreach (int piece in _t.Have.SetBits)
            if (priorities.IsWanted(piece)) verified += torrent.GetPieceSize(piece);
        _t.VerifiedBytes = verified;
        if (_t.Picker is { } p && !_t.UserPaused && _t.State is TorrentState.Downloading or TorrentState.Seeding)
        {
            if (_t.State == TorrentState.Seeding && !p.IsComplete && !_t.Options.SeedOnly) _t.State = TorrentState.Downloading;
            foreach (PeerConnection peer in _t.Peers.All)
            {
                _requester.UpdateInterest(peer);
                _requester.RequestMore(peer);
            }
            if (_t.State == TorrentState.Downloading && p.IsComplete) EnterSeeding();
            _admission.DialMore();
        }
        _snapshots.PublishStatus();
        return true;
    }

    private static FilePriority LevelOf(IReadOnlyList<FilePriority> levels, int file) => file < levels.Count ? levels[file] : FilePriority.Normal;

    /// <summary>Downloads in piece order (after deadlines and high priority) or rarest first.</summary>
    public bool SetSequential(bool sequential)
    {
        _t.Options = _t.Options with { Sequential = sequential };
        if (_t.Picker is { } picker) picker.Sequential = sequential;
        return true;
    }

    /// <summary>Raises the first and last piece of every wanted file to high priority, or gives them back their files' priorities.</summary>
    public bool SetFirstAndLastPiecesFirst(bool on)
    {
        _t.Options = _t.Options with { FirstAndLastPiecesFirst = on };
        if (_t.Priorities is not { } priorities) return true; // applied when the check starts
        var changed = new List<int>();
        priorities.SetFirstAndLastPiecesFirst(on, changed);
        if (_t.Picker is { } picker)
        {
            foreach (int piece in changed) picker.SetPiecePriority(piece, priorities.GetPiecePriority(piece));
        }
        return true;
    }

    /// <summary>Changes the torrent's rate caps (bytes per second, 0 unlimited); takes effect on the next block.</summary>
    public bool SetRateLimits(long download, long upload)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(download);
        ArgumentOutOfRangeException.ThrowIfNegative(upload);
        _t.Options = _t.Options with { MaxDownloadRate = download, MaxUploadRate = upload };
        _downloadLimit.BytesPerSecond = download;
        _uploadLimit.BytesPerSecond = upload;
        return true;
    }

    /// <summary>Every file's progress and priority (empty until the metadata is known).</summary>
    public FileStatus[] GetFiles()
    {
        if (_t.Torrent is not { } torrent) return [];
        var files = new FileStatus[torrent.Files.Count];
        for (int f = 0; f < files.Length; f++)
        {
            TorrentFile file = torrent.Files[f];
            long verified = 0;
            if (file.Length > 0 && _t.Have.Length > 0)
            {
                int first = (int)(file.Offset / torrent.PieceLength);
                int last = (int)((file.Offset + file.Length - 1) / torrent.PieceLength);
                for (int p = first; p <= last; p++)
                {
                    if (!_t.Have[p]) continue;
                    long start = (long)p * torrent.PieceLength, end = start + torrent.GetPieceSize(p);
                    verified += Math.Min(end, file.Offset + file.Length) - Math.Max(start, file.Offset);
                }
            }
            FilePriority priority = _t.Priorities?.GetFilePriority(f) ?? LevelOf(_t.Options.FilePriorities ?? [], f);
            string path = _t.Options.RenamedFiles is { } renamed && renamed.TryGetValue(f, out string? newPath) ? newPath : file.Path;
            files[f] = new FileStatus(f, path, file.Length, verified, priority, file.IsPadding);
        }
        return files;
    }

    /// <summary>
    /// Plans a read of <paramref name="length"/> bytes at <paramref name="offset"/> in file <paramref name="file"/>: the
    /// pieces it covers get deadlines (and the next few a later one), and the returned task completes once they are all
    /// verified. Throws <see cref="ArgumentOutOfRangeException"/> for a bad range, <see cref="InvalidOperationException"/>
    /// for a skipped file, a torrent without metadata, or too many waiting reads.
    /// </summary>
    public FileRead PlanRead(int file, long offset, int length)
    {
        Torrent torrent = _t.Torrent ?? throw new InvalidOperationException("the torrent's metadata is not known yet");
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if ((uint)file >= (uint)torrent.Files.Count) throw new ArgumentOutOfRangeException(nameof(file), file, $"the torrent has {torrent.Files.Count} files");
        TorrentFile f = torrent.Files[file];
        if (offset < 0 || offset > f.Length) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"file {file} has {f.Length} bytes");
        int count = (int)Math.Min(length, f.Length - offset);
        long start = f.Offset + offset;
        if (count == 0) return new FileRead(start, 0, Task.CompletedTask);
        int first = (int)(start / torrent.PieceLength);
        int last = (int)((start + count - 1) / torrent.PieceLength);
        for (int p = first; p <= last; p++)
            if (!_t.IsWanted(p)) throw new InvalidOperationException($"file {file} is not downloaded (its priority is skip)");
        var waiter = new RangeWaiter(first, last);
        waiter.Advance(_t.Have);
        if (waiter.IsDone) return new FileRead(start, count, Task.CompletedTask);
        if (_t.State is TorrentState.Error or TorrentState.Stopped) throw new InvalidOperationException($"the torrent is {_t.State.ToString().ToLowerInvariant()}");
        if (_waiters.Count >= MaxWaitingReads) throw new InvalidOperationException($"{MaxWaitingReads} reads are waiting for pieces already");
        _waiters.Add(waiter);
        int fileLast = (int)((f.Offset + Math.Max(f.Length, 1) - 1) / torrent.PieceLength);
        SetDeadlines(first, Math.Min(fileLast, last + ReadAheadPieces));
        return new FileRead(start, count, waiter.Task);
    }

    /// <summary>Reads verified bytes at <paramref name="torrentOffset"/> through the disk service (off the loop: reads are thread-safe).</summary>
    public async Task ReadVerifiedAsync(long torrentOffset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        Storage.ITorrentDisk storage = _loopContext.Storage ?? throw new InvalidOperationException("the torrent's data is not open");
        int pieceLength = _t.Torrent!.PieceLength;
        while (!destination.IsEmpty)
        {
            int piece = (int)(torrentOffset / pieceLength);
            int within = (int)(torrentOffset - (long)piece * pieceLength);
            int n = Math.Min(destination.Length, _t.Torrent.GetPieceSize(piece) - within);
            try
            {
                await storage.ReadBlockAsync(piece, within, destination[..n], cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                throw new InvalidOperationException("the torrent has stopped");
            }
            destination = destination[n..];
            torrentOffset += n;
        }
    }

    /// <summary>Forgets a read whose caller gave up waiting (its deadlines stay: the player will most likely ask again).</summary>
    public bool ForgetRead(Task waiting) => _waiters.RemoveAll(w => w.Task == waiting) > 0;

    private void SetDeadlines(int first, int last)
    {
        if (_t.Picker is not { } picker) return; // set again when the check ends
        long now = _t.Now();
        for (int p = first; p <= last; p++)
        {
            if (_t.Have[p] || !_t.IsWanted(p)) continue;
            picker.SetDeadline(p, now + (p - first));
        }
        foreach (PeerConnection peer in _t.Peers.All) _requester.RequestMore(peer);
    }

    private void WakeWaiters()
    {
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            RangeWaiter waiter = _waiters[i];
            waiter.Advance(_t.Have);
            if (!waiter.IsDone) continue;
            _waiters.RemoveAt(i);
            waiter.Complete();
        }
    }

    private void AbandonWaiters()
    {
        foreach (RangeWaiter waiter in _waiters) waiter.Abandon();
        _waiters.Clear();
    }

    private void OnFileCompleted(int file)
    {
        if (_t.Priorities?.GetFilePriority(file) is FilePriority.Skip) return;
        Emit(SessionEventKind.FileCompleted, file: file);
    }

    private void Emit(SessionEventKind kind, string? message = null, int file = -1)
        => _t.Session.Events.Publish(new SessionEvent(kind, _t.InfoHash, Name, _t.State, message, file));

    /// <summary>A read waiting for the pieces <see cref="First"/>..<see cref="Last"/> to be verified.</summary>
    private sealed class RangeWaiter(int first, int last)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _next = first;

        public int First { get; } = first;
        public int Last { get; } = last;
        public Task Task => _done.Task;
        public bool IsDone => _next > Last;

        /// <summary>Moves past the verified pieces at the front (pieces are verified in any order; the front decides).</summary>
        public void Advance(BitField have)
        {
            while (_next <= Last && have[_next]) _next++;
        }

        public void Complete() => _done.TrySetResult();

        public void Abandon() => _done.TrySetException(new InvalidOperationException("the torrent has stopped"));
    }
}

/// <summary>A planned read: the bytes at <paramref name="TorrentOffset"/> may be read once <paramref name="Ready"/> completes.</summary>
internal sealed record FileRead(long TorrentOffset, int Length, Task Ready);
