using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>The library's controls on a running torrent over real sockets: pause and resume, file priorities, reads that wait for pieces, events.</summary>
public sealed class TorrentControlTests : IDisposable
{
    private const int PieceLength = LoopbackSessions.PieceLength;
    private readonly LoopbackSessions _bed = new("shoal-control-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Pause_keeps_the_verified_pieces_and_resume_finishes_without_fetching_them_again()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("data.bin", 40 * PieceLength));
        ShoalSession seeder = await StartAsync(maxUpload: 512 * 1024);
        ShoalSession leecher = await StartAsync(resume: _bed.Combine("resume"));
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        var events = new EventLog(leecher);
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _bed.Combine("leech"),
            Peers = [seeder.ListenEndPoint],
        });
        await Eventually.TrueAsync(() => handle.GetStatus().VerifiedPieces >= 8, TimeSpan.FromSeconds(60), "no piece arrived");

        Assert.True(await handle.PauseAsync());
        Assert.False(await handle.PauseAsync());
        TorrentStatus paused = handle.GetStatus();
        Assert.Equal(TorrentState.Suspended, paused.State);
        Assert.True(paused.VerifiedPieces < paused.PieceCount, "finished before the pause");
        await Eventually.TrueAsync(() => handle.GetPeers().Count == 0 && seeder.Torrents[0].GetStatus().Peers == 0,
            TimeSpan.FromSeconds(10), "peers stayed connected while paused");
        // Nothing runs for a paused torrent: the snapshot does not move.
        await Task.Delay(1500);
        Assert.Equal(paused.VerifiedPieces, handle.GetStatus().VerifiedPieces);
        Assert.Equal(TorrentState.Suspended, handle.GetStatus().State);

        Assert.True(await handle.ResumeAsync());
        handle.AddPeers([seeder.ListenEndPoint]);
        await WaitAsync(handle.Completion, "the resumed torrent did not finish");
        TorrentStatus done = handle.GetStatus();
        Assert.Equal(TorrentState.Seeding, done.State);
        // What was verified before the pause is not fetched again (a recheck or a restart from zero would).
        Assert.True(done.Downloaded < torrent.TotalSize + paused.VerifiedPieces * (long)PieceLength / 2,
            $"downloaded {done.Downloaded} of {torrent.TotalSize}");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "data.bin")), await File.ReadAllBytesAsync(_bed.Combine("leech", "data.bin")));
        await events.WaitForAsync(e => e.Kind == SessionEventKind.Finished);
        Assert.Contains(events.Seen, e => e.Kind == SessionEventKind.StateChanged && e.State == TorrentState.Suspended);
        Assert.Contains(events.Seen, e => e.Kind == SessionEventKind.Added);
    }

    [Fact]
    public async Task A_skipped_file_is_never_written_and_wanting_it_later_downloads_it_under_the_same_handle()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("a.bin", 5 * PieceLength + 1000), ("b.bin", 3 * PieceLength), ("c.bin", 2 * PieceLength + 77));
        ShoalSession seeder = await StartAsync();
        ShoalSession leecher = await StartAsync(resume: _bed.Combine("resume"));
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        string leechDir = _bed.Combine("leech");
        var events = new EventLog(leecher);
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = leechDir,
            Peers = [seeder.ListenEndPoint],
            FilePriorities = [FilePriority.Normal, FilePriority.Skip, FilePriority.High],
        });
        await WaitAsync(handle.Completion, "the wanted files did not finish");
        Assert.False(File.Exists(Path.Combine(leechDir, "content", "b.bin")), "a skipped file was written");
        IReadOnlyList<FileStatus> files = await handle.GetFilesAsync();
        Assert.Equal([1.0, 1.0], [files[0].Progress, files[2].Progress]);
        Assert.Equal(FilePriority.Skip, files[1].Priority);
        Assert.True(files[1].Progress < 1);

        await handle.SetFilePrioritiesAsync([FilePriority.Normal, FilePriority.Normal, FilePriority.Normal]);
        await Eventually.TrueAsync(() => handle.GetStatus().State != TorrentState.Checking, TimeSpan.FromSeconds(30), "stuck checking");
        handle.AddPeers([seeder.ListenEndPoint]);
        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Seeding, Progress: 1 }, TimeSpan.FromSeconds(60),
            () => $"b.bin did not download: {handle.GetStatus()}");
        foreach (string name in new[] { "a.bin", "b.bin", "c.bin" })
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "content", name)), await File.ReadAllBytesAsync(Path.Combine(leechDir, "content", name)));
        Assert.All(await handle.GetFilesAsync(), f => Assert.Equal(1.0, f.Progress));
        await events.WaitForAsync(e => e.Kind == SessionEventKind.FileCompleted && e.FileIndex == 1);
    }

    [Fact]
    public async Task A_high_priority_file_completes_before_the_others()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("a.bin", 12 * PieceLength), ("b.bin", 12 * PieceLength), ("c.bin", 4 * PieceLength));
        ShoalSession seeder = await StartAsync(maxUpload: 768 * 1024);
        ShoalSession leecher = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        var events = new EventLog(leecher);
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _bed.Combine("leech"),
            Peers = [seeder.ListenEndPoint],
            FilePriorities = [FilePriority.Low, FilePriority.Normal, FilePriority.High],
        });
        await WaitAsync(handle.Completion, "the download did not finish");
        await events.WaitForAsync(e => e.Kind == SessionEventKind.FileCompleted && e.FileIndex == 0);
        int[] order = [.. events.Seen.Where(e => e.Kind == SessionEventKind.FileCompleted).Select(e => e.FileIndex)];
        Assert.Equal([2, 1, 0], order);
    }

    [Fact]
    public async Task A_read_waits_for_its_pieces_which_come_first_and_returns_the_right_bytes()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("movie.bin", 64 * PieceLength));
        ShoalSession seeder = await StartAsync(maxUpload: 512 * 1024);
        ShoalSession leecher = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _bed.Combine("leech"),
            Peers = [seeder.ListenEndPoint],
        });
        byte[] source = await File.ReadAllBytesAsync(Path.Combine(seedDir, "movie.bin"));
        long offset = 50L * PieceLength + 1234;
        byte[] buffer = new byte[100_000];
        int read = await handle.ReadAsync(0, offset, buffer).WaitAsync(TimeSpan.FromSeconds(60));
        TorrentStatus atRead = handle.GetStatus();
        Assert.Equal(buffer.Length, read);
        Assert.Equal(source.AsSpan((int)offset, read).ToArray(), buffer);
        // The range's pieces were asked for first: the read did not wait for the whole file.
        Assert.True(atRead.VerifiedPieces < atRead.PieceCount, "the whole file arrived before the read returned");

        // The tail: fewer bytes than asked at the end, none past it.
        Assert.Equal(10, await handle.ReadAsync(0, source.Length - 10, new byte[64]).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, await handle.ReadAsync(0, source.Length, new byte[64]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => handle.ReadAsync(1, 0, new byte[1]));
    }

    [Fact]
    public async Task The_queue_runs_one_download_at_a_time_and_starts_the_next_when_one_finishes()
    {
        (Torrent first, string firstDir) = await CreateAsync(("one.bin", 8 * PieceLength));
        (Torrent second, string secondDir) = await _bed.CreateTorrentAsync("seed2", 99, ("two.bin", 6 * PieceLength));
        byte[] other = await File.ReadAllBytesAsync(Path.Combine(secondDir, "two.bin"));
        ShoalSession seeder = await StartAsync(maxUpload: 1024 * 1024);
        await seeder.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = firstDir });
        await seeder.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = secondDir });
        ShoalSession leecher = await StartAsync(maxActiveDownloads: 1);
        var events = new EventLog(leecher);
        TorrentHandle a = await leecher.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = _bed.Combine("a"), Peers = [seeder.ListenEndPoint] });
        TorrentHandle b = await leecher.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = _bed.Combine("b"), Peers = [seeder.ListenEndPoint] });
        Assert.Equal((0, 1), (a.QueuePosition, b.QueuePosition));
        await Eventually.TrueAsync(() => b.GetStatus().State == TorrentState.Queued, TimeSpan.FromSeconds(20), () => $"b is {b.GetStatus().State}");
        Assert.Equal(0, b.GetStatus().VerifiedPieces);

        await WaitAsync(a.Completion, "the first download did not finish");
        b.AddPeers([seeder.ListenEndPoint]);
        await Eventually.TrueAsync(() => b.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(60), () => $"b is {b.GetStatus().State}");
        Assert.Equal(other, await File.ReadAllBytesAsync(_bed.Combine("b", "two.bin")));
        // While b waited, a ran alone: b never downloaded before a finished.
        SessionEvent[] seen = events.Seen;
        int aFinished = Array.FindIndex(seen, e => e.Kind == SessionEventKind.Finished && e.InfoHash == first.InfoHash);
        int bDownloading = Array.FindIndex(seen, e => e.Kind == SessionEventKind.StateChanged && e.InfoHash == second.InfoHash && e.State == TorrentState.Downloading);
        Assert.True(aFinished >= 0 && bDownloading > aFinished, string.Join(", ", seen.Select(e => $"{e.Kind}/{e.Name}/{e.State}")));

        // Moved to the front while both seed (no seed limit): positions swap.
        await b.SetQueuePositionAsync(0);
        Assert.Equal((1, 0), (a.QueuePosition, b.QueuePosition));
    }

    [Fact]
    public async Task Session_rate_limits_change_at_runtime_and_a_removed_torrent_is_an_event()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("x.bin", 2 * PieceLength));
        ShoalSession session = await StartAsync();
        var events = new EventLog(session);
        session.SetRateLimits(100_000, 50_000);
        Assert.Equal((100_000L, 50_000L), (session.MaxDownloadRate, session.MaxUploadRate));
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir, StartPaused = true });
        Assert.Equal(TorrentState.Suspended, handle.GetStatus().State);
        await handle.SetRateLimitsAsync(10_000, 0);
        await handle.StopAsync();
        await events.WaitForAsync(e => e.Kind == SessionEventKind.Removed);
        await Assert.ThrowsAsync<InvalidOperationException>(() => handle.PauseAsync());
    }

    private Task<(Torrent, string)> CreateAsync(params (string Name, int Length)[] files) => _bed.CreateTorrentAsync("seed", files.Length, files);

    private Task<ShoalSession> StartAsync(long maxUpload = 0, string? resume = null, int maxActiveDownloads = -1) =>
        _bed.StartAsync(o => o with { MaxUploadRate = maxUpload, ResumeDirectory = resume, MaxActiveDownloads = maxActiveDownloads });

    private static Task WaitAsync(Task task, string failure) => LoopbackSessions.WaitAsync(task, failure);

    /// <summary>Reads a session's event stream in the background.</summary>
    private sealed class EventLog
    {
        private readonly List<SessionEvent> _seen = [];

        public EventLog(ShoalSession session) => _ = Task.Run(async () =>
        {
            await foreach (SessionEvent e in session.ReadEventsAsync())
                lock (_seen) _seen.Add(e);
        });

        public SessionEvent[] Seen
        {
            get { lock (_seen) return [.. _seen]; }
        }

        public Task WaitForAsync(Func<SessionEvent, bool> match) =>
            Eventually.TrueAsync(() => Seen.Any(match), TimeSpan.FromSeconds(30), () => "event not seen; got: " + string.Join(", ", Seen.Select(e => $"{e.Kind}/{e.State}/{e.FileIndex}")));
    }
}
