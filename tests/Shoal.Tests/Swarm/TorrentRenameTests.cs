using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>Renaming a torrent's files and folders through the library, on disk and in its layout, across a restart.</summary>
public sealed class TorrentRenameTests : IDisposable
{
    private const int PieceLength = LoopbackSessions.PieceLength;
    private readonly LoopbackSessions _bed = new("shoal-rename-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Renamed_files_and_folders_move_on_disk_keep_their_pieces_and_are_found_again_after_a_restart()
    {
        (Torrent torrent, string seedDir) = await _bed.CreateTorrentAsync("seed", 5, ("a.bin", 5 * PieceLength + 3), ("sub/b.bin", 3 * PieceLength));
        string content = Path.Combine(seedDir, "content");
        byte[] a = await File.ReadAllBytesAsync(Path.Combine(content, "a.bin")), b = await File.ReadAllBytesAsync(Path.Combine(content, "sub", "b.bin"));
        string resume = _bed.Combine("resume");
        ShoalSession session = await StartAsync(resume);
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await handle.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(() => File.Exists(ResumeSaver.PathFor(resume, torrent.InfoHash, seedDir)), TimeSpan.FromSeconds(30), "no resume data saved");
        await File.WriteAllTextAsync(Path.Combine(content, "notes.txt"), "the user's");

        // A byte of b.bin changes behind the torrent's back (length and time kept): only a recheck would notice.
        string bPath = Path.Combine(content, "sub", "b.bin");
        DateTime written = File.GetLastWriteTimeUtc(bPath);
        byte[] tampered = (byte[])b.Clone();
        tampered[7] ^= 0x5A;
        await File.WriteAllBytesAsync(bPath, tampered);
        File.SetLastWriteTimeUtc(bPath, written);

        await handle.RenameFileAsync(0, "content/renamed/a2.bin");
        Assert.False(File.Exists(Path.Combine(content, "a.bin")));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(content, "renamed", "a2.bin")));
        Assert.Equal("content/renamed/a2.bin", (await handle.GetFilesAsync())[0].Path);

        await handle.RenameFolderAsync("content", "top");
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(seedDir, "top", "renamed", "a2.bin")));
        Assert.Equal(tampered, await File.ReadAllBytesAsync(Path.Combine(seedDir, "top", "sub", "b.bin")));
        // The user's file stays with its folder; the folders the torrent emptied go.
        Assert.Equal("the user's", await File.ReadAllTextAsync(Path.Combine(content, "notes.txt")));
        Assert.False(Directory.Exists(Path.Combine(content, "sub")));
        Assert.False(Directory.Exists(Path.Combine(content, "renamed")));
        Assert.Equal(new[] { "top/renamed/a2.bin", "top/sub/b.bin" }, (await handle.GetFilesAsync()).Select(f => f.Path));
        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Seeding } s && s.VerifiedPieces == s.PieceCount,
            TimeSpan.FromSeconds(30), () => $"the renamed data was checked again: {handle.GetStatus()}");

        // Refused: two files at one path, an unsafe path, and the user's file where the new name would go.
        await Assert.ThrowsAsync<ArgumentException>(() => handle.RenameFileAsync(1, "top/renamed/a2.bin"));
        await Assert.ThrowsAsync<ArgumentException>(() => handle.RenameFileAsync(1, "top/../../escape.bin"));
        await File.WriteAllTextAsync(Path.Combine(seedDir, "top", "taken.bin"), "mine");
        await Assert.ThrowsAsync<IOException>(() => handle.RenameFileAsync(1, "top/taken.bin"));
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(seedDir, "top", "taken.bin")));
        Assert.True(File.Exists(Path.Combine(seedDir, "top", "sub", "b.bin")));
        Assert.Equal("top/sub/b.bin", (await handle.GetFilesAsync())[1].Path);

        // A restart: added again with nothing but its folder, it finds its files under their new names through its
        // resume data, and trusts them (the changed byte is still not noticed: nothing was rechecked).
        await _bed.StopAsync(session);
        ShoalSession again = await StartAsync(resume);
        TorrentHandle back = await again.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        Assert.Equal(new[] { "top/renamed/a2.bin", "top/sub/b.bin" }, (await back.GetFilesAsync()).Select(f => f.Path));
        await Eventually.TrueAsync(() => back.GetStatus() is { State: TorrentState.Seeding } s && s.VerifiedPieces == s.PieceCount,
            TimeSpan.FromSeconds(30), () => $"the renamed files were not found again: {back.GetStatus()}");
        Assert.False(File.Exists(Path.Combine(content, "a.bin")), "the torrent wrote a file under its old name");
    }

    [Fact]
    public void Resume_data_keeps_renamed_files_and_without_them_stays_in_the_first_format()
    {
        var hash = new InfoHash(new byte[20]);
        var verified = new BitField(3);
        verified[1] = true;
        var plain = new ResumeData(hash, 16384, verified, [new ResumeFileState(100, 5), new ResumeFileState(-1, 0)], 42);
        byte[] plainBytes = ResumeFile.Serialize(plain);
        Assert.Equal(ResumeFile.FormatVersion, BitConverter.ToInt32(plainBytes, 8));
        Assert.Empty(ResumeFile.TryParse(plainBytes, hash, out _)!.RenamedFiles);

        ResumeData renamed = new ResumeData(hash, 16384, verified, plain.Files, 42) { RenamedFiles = new Dictionary<int, string> { [1] = "dir/é.bin" } };
        byte[] bytes = ResumeFile.Serialize(renamed);
        ResumeData? back = ResumeFile.TryParse(bytes, hash, out string? why);
        Assert.Null(why);
        Assert.Equal("dir/é.bin", back!.RenamedFiles[1]);
        Assert.True(back.IsVerified(1));
        // A bad renamed path is refused like any corruption (the checksum is right, the path is not).
        ResumeData bad = new ResumeData(hash, 16384, verified, plain.Files, 42) { RenamedFiles = new Dictionary<int, string> { [0] = "../x" } };
        Assert.Null(ResumeFile.TryParse(ResumeFile.Serialize(bad), hash, out why));
        Assert.NotNull(why);
    }

    private Task<ShoalSession> StartAsync(string resume) => _bed.StartAsync(o => o with { ResumeDirectory = resume });
}
