using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>
/// The library's operations on a torrent's data over real sockets and files: removing a torrent with its data, and
/// moving its data to another folder while it stays in the session.
/// </summary>
public sealed class TorrentDataTests : IDisposable
{
    private const int PieceLength = LoopbackSessions.PieceLength;
    private readonly LoopbackSessions _bed = new("shoal-data-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Removing_with_data_deletes_the_torrents_files_folders_and_partial_pieces_and_nothing_else()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("a.bin", 5 * PieceLength + 1000), ("b.bin", 3 * PieceLength), ("c.bin", 2 * PieceLength + 77));
        string resume = _bed.Combine("resume");
        ShoalSession seeder = await StartAsync(resume: _bed.Combine("seed-resume"));
        ShoalSession leecher = await StartAsync(resume: resume);
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        string leechDir = _bed.Combine("leech");
        // The user's own files: one next to the torrent's folder, one inside it.
        Directory.CreateDirectory(Path.Combine(leechDir, "content"));
        await File.WriteAllTextAsync(Path.Combine(leechDir, "mine.txt"), "mine");
        await File.WriteAllTextAsync(Path.Combine(leechDir, "content", "notes.txt"), "notes");
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = leechDir,
            Peers = [seeder.ListenEndPoint],
            FilePriorities = [FilePriority.Normal, FilePriority.Skip, FilePriority.Normal],
        });
        await WaitAsync(handle.Completion, "the wanted files did not finish");
        string parts = Path.Combine(leechDir, "." + torrent.InfoHash.ToHex() + ".parts");
        Assert.True(Directory.Exists(parts), "pieces straddling the skipped file were not kept");
        await Eventually.TrueAsync(() => Directory.Exists(resume) && Directory.EnumerateFiles(resume).Any(), TimeSpan.FromSeconds(30), "no resume data saved");

        Assert.Empty(await handle.RemoveAsync(deleteData: true));
        Assert.Empty(leecher.Torrents);
        Assert.False(File.Exists(Path.Combine(leechDir, "content", "a.bin")));
        Assert.False(File.Exists(Path.Combine(leechDir, "content", "c.bin")));
        Assert.False(Directory.Exists(parts));
        Assert.Empty(Directory.EnumerateFiles(resume));
        // Nothing the torrent does not name: the user's files, and the folder that still holds one, stay.
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(leechDir, "mine.txt")));
        Assert.Equal("notes", await File.ReadAllTextAsync(Path.Combine(leechDir, "content", "notes.txt")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => handle.RemoveAsync(deleteData: true));

        // The seeder's folder held nothing else: the torrent's folder goes, the download folder stays.
        Assert.Empty(await seed.RemoveAsync(deleteData: true));
        Assert.False(Directory.Exists(Path.Combine(seedDir, "content")));
        Assert.True(Directory.Exists(seedDir));
    }

    [Fact]
    public async Task Moving_storage_continues_from_the_new_folder_where_peers_download_it()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("a.bin", 6 * PieceLength + 5), ("sub/b.bin", 4 * PieceLength));
        byte[] a = await File.ReadAllBytesAsync(Path.Combine(seedDir, "content", "a.bin"));
        ShoalSession seeder = await StartAsync(resume: _bed.Combine("resume"));
        TorrentHandle handle = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await WaitAsync(handle.Completion, "the seeder did not check its data");
        await File.WriteAllTextAsync(Path.Combine(seedDir, "mine.txt"), "mine");

        string moved = _bed.Combine("moved", "here");
        await handle.MoveStorageAsync(moved);
        Assert.Equal(Path.GetFullPath(moved), handle.DownloadDirectory);
        Assert.False(Directory.Exists(Path.Combine(seedDir, "content")), "the old folders the torrent made stayed");
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(seedDir, "mine.txt")));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(moved, "content", "a.bin")));
        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Seeding } s && s.VerifiedPieces == s.PieceCount,
            TimeSpan.FromSeconds(30), () => $"not seeding after the move: {handle.GetStatus()}");

        ShoalSession leecher = await StartAsync();
        TorrentHandle leech = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _bed.Combine("leech"),
            Peers = [seeder.ListenEndPoint],
        });
        await WaitAsync(leech.Completion, "nothing was downloaded from the moved data");
        Assert.Equal(a, await File.ReadAllBytesAsync(_bed.Combine("leech", "content", "a.bin")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(moved, "content", "sub", "b.bin")),
            await File.ReadAllBytesAsync(_bed.Combine("leech", "content", "sub", "b.bin")));
    }

    [Fact]
    public async Task A_paused_torrent_moves_paused_and_trusts_its_resume_data_at_the_new_place_without_a_recheck()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("a.bin", 6 * PieceLength), ("b.bin", 2 * PieceLength));
        string resume = _bed.Combine("resume");
        ShoalSession session = await StartAsync(resume: resume);
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await WaitAsync(handle.Completion, "the data was not checked");
        await Eventually.TrueAsync(() => File.Exists(ResumeSaver.PathFor(resume, torrent.InfoHash, seedDir)), TimeSpan.FromSeconds(30), "no resume data saved");
        Assert.True(await handle.PauseAsync());

        // One byte changes behind the torrent's back, its file keeping length and time: a check would find that piece
        // bad; resume data carried to the new place still vouches for it.
        string file = Path.Combine(seedDir, "content", "a.bin");
        DateTime written = File.GetLastWriteTimeUtc(file);
        byte[] bytes = await File.ReadAllBytesAsync(file);
        bytes[10] ^= 0xFF;
        await File.WriteAllBytesAsync(file, bytes);
        File.SetLastWriteTimeUtc(file, written);

        string moved = _bed.Combine("moved");
        await handle.MoveStorageAsync(moved);
        Assert.Equal(TorrentState.Suspended, handle.GetStatus().State);
        Assert.False(File.Exists(ResumeSaver.PathFor(resume, torrent.InfoHash, seedDir)));
        Assert.True(File.Exists(ResumeSaver.PathFor(resume, torrent.InfoHash, moved)));
        Assert.True(await handle.ResumeAsync());
        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Seeding } s && s.VerifiedPieces == s.PieceCount,
            TimeSpan.FromSeconds(30), () => $"the moved data was checked again: {handle.GetStatus()}");
    }

    [Fact]
    public async Task A_move_onto_an_existing_file_or_failing_midway_moves_nothing_and_the_torrent_stays_where_it_was()
    {
        (Torrent torrent, string seedDir) = await CreateAsync(("a.bin", 3 * PieceLength), ("sub/b.bin", 2 * PieceLength));
        byte[] a = await File.ReadAllBytesAsync(Path.Combine(seedDir, "content", "a.bin"));
        ShoalSession session = await StartAsync(resume: _bed.Combine("resume"));
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await WaitAsync(handle.Completion, "the data was not checked");

        // The user's file where the torrent's would go: never overwritten, nothing moves.
        string target = _bed.Combine("target");
        Directory.CreateDirectory(Path.Combine(target, "content", "sub"));
        await File.WriteAllTextAsync(Path.Combine(target, "content", "sub", "b.bin"), "the user's");
        IOException conflict = await Assert.ThrowsAsync<IOException>(() => handle.MoveStorageAsync(target));
        Assert.Contains("b.bin", conflict.Message);
        Assert.Equal("the user's", await File.ReadAllTextAsync(Path.Combine(target, "content", "sub", "b.bin")));
        Assert.False(File.Exists(Path.Combine(target, "content", "a.bin")));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(seedDir, "content", "a.bin")));
        Assert.Equal(Path.GetFullPath(seedDir), Path.GetFullPath(handle.DownloadDirectory));

        // Failing midway (a file where the torrent needs a folder): a.bin moved first and is put back.
        string other = _bed.Combine("other");
        Directory.CreateDirectory(Path.Combine(other, "content"));
        await File.WriteAllTextAsync(Path.Combine(other, "content", "sub"), "a file, not a folder");
        await Assert.ThrowsAsync<IOException>(() => handle.MoveStorageAsync(other));
        Assert.False(File.Exists(Path.Combine(other, "content", "a.bin")));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(seedDir, "content", "a.bin")));
        Assert.Equal("a file, not a folder", await File.ReadAllTextAsync(Path.Combine(other, "content", "sub")));

        // The torrent goes on from where it was.
        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Seeding } s && s.VerifiedPieces == s.PieceCount,
            TimeSpan.FromSeconds(30), () => $"not seeding after the failed moves: {handle.GetStatus()}");
    }

    private Task<(Torrent, string)> CreateAsync(params (string Name, int Length)[] files) => _bed.CreateTorrentAsync("seed", files.Length, files);

    private Task<ShoalSession> StartAsync(string? resume = null) => _bed.StartAsync(o => o with { ResumeDirectory = resume });

    private static Task WaitAsync(Task task, string failure) => LoopbackSessions.WaitAsync(task, failure);
}
