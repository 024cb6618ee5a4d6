using System.Globalization;
using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.WebSeeds;

/// <summary>
/// A torrent's web seeds, driven by its actor: which URLs are used, which connection slots fetch which runs of pieces
/// (<see cref="PiecePicker.PickRun"/>), what arrives (blocks go the same way as a peer's: the picker, smart ban's
/// record of senders, the disk), and what happens when a server fails (<see cref="WebSeedServer"/>'s rules) or sends
/// data that fails the hash check (dropped, never trusted again). A web seed is a permanently unchoked seed
/// (BEP 19), so it needs no interest, choking or availability; it is used by private torrents too (BEP 27 restricts
/// peer sources, not the torrent's own HTTP sources). Single-threaded: only the actor calls it.
/// </summary>
internal sealed class WebSeedSources
{
    /// <summary>A run is at least this long when the server's rate is not known yet (or slower), unless a piece is longer.</summary>
    private const int MinRunBytes = 1024 * 1024;

    private readonly TorrentContext _t;
    private readonly PeerLoopContext _loops;
    private readonly SmartBan _smartBan;
    private readonly BlockRequester _requester;
    private readonly WebSeedClient? _client;
    private readonly List<WebSeedServer> _servers = [];
    private readonly List<WebSeedJob> _running = [];
    private readonly List<int> _cancelScratch = [];
    private BlockRequest[] _pickScratch = [];
    private volatile IReadOnlyList<WebSeedStatus> _snapshot = [];
    private WebSeedCounts _counts = WebSeedCounts.None;
    private bool _started;
    private int _nextKey = -1;

    public WebSeedSources(TorrentContext torrent, PeerLoopContext loops, SmartBan smartBan, BlockRequester requester)
    {
        _t = torrent;
        _loops = loops;
        _smartBan = smartBan;
        _requester = requester;
        _client = torrent.Session.WebSeeds;
    }

    /// <summary>The latest snapshot of every web seed (any thread).</summary>
    public IReadOnlyList<WebSeedStatus> Snapshot => _snapshot;

    /// <summary>The web seeds counted by state, as of the last snapshot (actor's loop).</summary>
    public WebSeedCounts Counts => _counts;

    private WebSeedOptions Options => _client!.Options;

    /// <summary>True while a run is in flight: the torrent needs its ticks (rates, snapshots) as it does for a peer.</summary>
    public bool IsFetching => _running.Count > 0;

    /// <summary>
    /// While the download wants data and nothing is in flight: when the first server backing off may be asked again
    /// (TimeProvider ticks), so an idle torrent is woken for it; null when no server waits.
    /// </summary>
    public long? NextRetry()
    {
        if (_t.State != TorrentState.Downloading) return null;
        long now = _t.Now();
        long? next = null;
        // A retry already due was tried by the last FillSlots (nothing to pick, or the disk is behind: its drain calls again).
        foreach (WebSeedServer server in _servers)
            if (!server.IsDropped && server.RetryAt > now && (next is null || server.RetryAt < next)) next = server.RetryAt;
        return next;
    }

    /// <summary>
    /// The metadata and the data are known: takes the torrent's web seeds ('url-list', then 'httpseeds', then the ones
    /// added with the torrent), each once, up to <see cref="WebSeedOptions.MaxServersPerTorrent"/>. Once per run.
    /// </summary>
    public void Start()
    {
        if (_started || _client is null || !Options.Enabled || _t.Torrent is not { } torrent || _t.Storage is null) return;
        _started = true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<(string Url, WebSeedKind Kind)> given = torrent.WebSeeds.Select(u => (u, WebSeedKind.UrlList))
            .Concat(torrent.HttpSeeds.Select(u => (u, WebSeedKind.HttpSeed)))
            .Concat(_t.Options.WebSeeds.Select(u => (u, WebSeedKind.UrlList)));
        foreach ((string url, WebSeedKind kind) in given)
        {
            if (!seen.Add(url)) continue;
            if (WebSeedUrls.TryParse(url) is not { } uri)
            {
                _t.Log($"web seed '{url}' ignored: not an http or https URL");
                continue;
            }
            if (kind == WebSeedKind.HttpSeed && !torrent.HasV1)
            {
                _t.Log($"HTTP seed '{url}' ignored: BEP 17 names pieces by the v1 info-hash, which this torrent has not");
                continue;
            }
            if (_servers.Count == Options.MaxServersPerTorrent)
            {
                _t.Log($"more than {Options.MaxServersPerTorrent} web seeds: the rest are ignored");
                break;
            }
            var slotKeys = new int[Math.Max(1, Options.ConnectionsPerServer)];
            for (int i = 0; i < slotKeys.Length; i++) slotKeys[i] = _nextKey--;
            _servers.Add(new WebSeedServer(url, kind, new WebSeedPlanner(kind, uri, torrent, _t.Storage.Layout), _nextKey--, slotKeys));
        }
        if (_servers.Count > 0) _t.Log(_servers.Count == 1 ? "1 web seed" : $"{_servers.Count} web seeds");
        Publish();
    }

    /// <summary>
    /// Gives every idle connection slot a run to fetch: not while the torrent is not downloading or its disk is behind
    /// (the drain calls again), not to a server backing off or dropped.
    /// </summary>
    public void FillSlots()
    {
        if (_servers.Count == 0 || _t.State != TorrentState.Downloading || _t.Picker is not { IsComplete: false } picker) return;
        if (_t.Storage!.IsBacklogged) return;
        long now = _t.Now();
        bool changed = false;
        foreach (WebSeedServer server in _servers)
        {
            int usable = server.UsableSlots(now);
            int running = server.RunningJobs;
            for (int slot = 0; slot < server.SlotKeys.Length && running < usable; slot++)
            {
                if (server.Jobs[slot] is not null) continue;
                if (!TryStartRun(picker, server, slot, now)) break;
                running++;
                changed = true;
            }
        }
        if (changed) Publish();
    }

    private bool TryStartRun(PiecePicker picker, WebSeedServer server, int slot, long now)
    {
        int runBlocks = RunBlocks(server);
        if (_pickScratch.Length < runBlocks) _pickScratch = new BlockRequest[runBlocks];
        // Endgame duplicates only from a server with nothing else in flight: its own other runs are not worth racing.
        int n = picker.PickRun(server.SlotKeys[slot], server.NextPiece[slot], server.RunningJobs == 0, _pickScratch.AsSpan(0, runBlocks));
        if (n == 0) return false;
        BlockRequest[] blocks = _pickScratch.AsSpan(0, n).ToArray();
        StorageLayout layout = _t.Storage!.Layout;
        long start = layout.GetPieceOffset(blocks[0].Piece) + blocks[0].Offset;
        BlockRequest last = blocks[^1];
        long end = layout.GetPieceOffset(last.Piece) + last.Offset + last.Length;
        var job = new WebSeedJob(server, slot, blocks, start, end - start, now);
        server.Jobs[slot] = job;
        server.NextPiece[slot] = last.Offset + last.Length == layout.GetPieceSize(last.Piece) ? last.Piece + 1 : -1;
        _running.Add(job);
        job.Run(_client!, _loops);
        return true;
    }

    /// <summary>
    /// Blocks for the next run of a slot: about <see cref="WebSeedOptions.RunDuration"/> of the server's rate per
    /// connection, at least <see cref="MinRunBytes"/>, at most <see cref="WebSeedOptions.MaxRunBytes"/>, and never less
    /// than one whole piece.
    /// </summary>
    private int RunBlocks(WebSeedServer server)
    {
        double perConnection = server.DownloadRate / (double)Math.Max(1, server.RunningJobs + 1);
        long bytes = (long)Math.Clamp(perConnection * Options.RunDuration.TotalSeconds, MinRunBytes, Math.Max(MinRunBytes, Options.MaxRunBytes));
        int pieceBlocks = (_t.Torrent!.PieceLength + PiecePicker.BlockLength - 1) / PiecePicker.BlockLength;
        return Math.Max(pieceBlocks, (int)(bytes / PiecePicker.BlockLength));
    }

    /// <summary>A block of a run arrived: on to the picker and the disk, as a peer's block goes.</summary>
    public void OnBlock(in TorrentEvent item)
    {
        var job = (WebSeedJob)item.Payload!;
        byte[] buffer = item.Buffer!;
        // A run that ended (cancelled, its server dropped) or a block out of order: its data is not taken.
        if (job.Ended || job.Server.IsDropped || item.Index != job.Next || item.Index >= job.Blocks.Length)
        {
            _t.Session.Blocks.Return(buffer);
            return;
        }
        job.Next++;
        BlockRequest block = job.Blocks[item.Index];
        WebSeedServer server = job.Server;
        server.Downloaded += block.Length;
        server.OnData();
        _t.Downloaded += block.Length;
        if (_t.Picker is not { } picker || _t.State != TorrentState.Downloading)
        {
            // Paused (or no longer downloading): the block goes back to the picker unread, not held by a finished run.
            _t.Picker?.OnRequestDropped(job.Key, block);
            _t.Session.Blocks.Return(buffer);
            return;
        }
        _cancelScratch.Clear();
        bool wanted = picker.OnBlockReceived(job.Key, block, _cancelScratch);
        _requester.CancelDuplicates(block, _cancelScratch);
        if (!wanted)
        {
            _t.Session.Blocks.Return(buffer);
            return;
        }
        _smartBan.RecordSender(block, server);
        _t.Storage!.EnqueueWrite(block.Piece, block.Offset, buffer, block.Length);
    }

    /// <summary>A run ended: what never came goes back to the picker; a failure counts against the server; idle slots get work.</summary>
    public void OnJobEnded(in TorrentEvent item)
    {
        var job = (WebSeedJob)item.Payload!;
        job.Ended = true;
        _running.Remove(job);
        WebSeedServer server = job.Server;
        if (server.Jobs[job.Slot] == job) server.Jobs[job.Slot] = null;
        if (_t.Picker is { } picker)
        {
            ReadOnlySpan<BlockRequest> blocks = job.Blocks;
            for (int i = job.Next; i < blocks.Length; i++) picker.OnRequestDropped(job.Key, blocks[i]);
        }
        if (!job.WasCancelled)
        {
            if (item.Error is null) server.OnSuccess();
            else OnFailure(job, item.Error);
        }
        else if (job.Next < job.Blocks.Length)
        {
            server.NextPiece[job.Slot] = -1;
        }
        Publish();
        FillSlots();
    }

    private void OnFailure(WebSeedJob job, Exception error)
    {
        WebSeedServer server = job.Server;
        job.Server.NextPiece[job.Slot] = -1;
        var failure = error as WebSeedException ?? new WebSeedException(WebSeedFailureKind.Connection, error.Message, inner: error);
        if (error is not WebSeedException) _t.Log($"web seed {server.Url}: unexpected {error.GetType().Name}: {error.Message}");
        bool drop = server.OnFailure(failure, job.StartedAt, _t.Now(), _t.Time, Options, out TimeSpan retryIn);
        if (drop)
        {
            Drop(server, failure.IsPermanent ? failure.Message : $"{server.ConsecutiveFailures} failures in a row, the last: {failure.Message}");
            return;
        }
        if (retryIn > TimeSpan.Zero)
            _t.Log($"web seed {server.Url}: {failure.Message}; retrying in {retryIn.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s");
    }

    /// <summary>
    /// Smart ban found (or suspects) this server's data in a piece that failed its hash check. Certain: dropped at once
    /// (BEP 19: a URL whose piece fails is discarded). Suspected (it shared the piece with others and the culprit cannot
    /// be told): counted, and dropped at <see cref="SmartBan.MaxHashFailures"/>.
    /// </summary>
    public void OnCorruptData(WebSeedServer server, int piece, bool certain)
    {
        if (server.IsDropped) return;
        server.HashFailures += certain ? SmartBan.MaxHashFailures : 1;
        if (server.HashFailures >= SmartBan.MaxHashFailures) Drop(server, $"sent data that failed the hash check of piece {piece}");
    }

    private void Drop(WebSeedServer server, string reason)
    {
        server.Drop(reason);
        _t.Log($"web seed {server.Url} dropped: {reason}");
        foreach (WebSeedJob? job in server.Jobs) job?.Cancel();
        Publish();
    }

    /// <summary>The download is complete (or stopped): every run is cancelled.</summary>
    public void StopDownloading()
    {
        foreach (WebSeedJob job in _running) job.Cancel();
    }

    /// <summary>Twice a second: rates, retries that came due, a fresh snapshot.</summary>
    public void OnTick(TimeSpan elapsed)
    {
        if (_servers.Count == 0) return;
        foreach (WebSeedServer server in _servers) server.SampleRate(elapsed);
        FillSlots();
        Publish();
    }

    /// <summary>Cancels every run; completes when they have all ended (their last events are then in the mailbox).</summary>
    public Task StopAsync()
    {
        StopDownloading();
        return Task.WhenAll(_running.Select(job => job.Completion));
    }

    private void Publish()
    {
        var statuses = new WebSeedStatus[_servers.Count];
        int connected = 0, failing = 0, dropped = 0;
        for (int i = 0; i < statuses.Length; i++)
        {
            WebSeedStatus status = _servers[i].ToStatus();
            statuses[i] = status;
            switch (status.State)
            {
                case WebSeedState.Connected: connected++; break;
                case WebSeedState.Failing: failing++; break;
                case WebSeedState.Dropped: dropped++; break;
            }
        }
        _snapshot = statuses;
        _counts = statuses.Length == 0 ? WebSeedCounts.None : new WebSeedCounts(statuses.Length, connected, failing, dropped);
    }
}
