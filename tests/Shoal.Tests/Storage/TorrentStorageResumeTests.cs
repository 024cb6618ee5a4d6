using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class TorrentStorageResumeTests
{
    // 32 KiB pieces, 7 pieces. Piece 0 lies in a; 1: a+b; 2: b+c; 3: c+pad+d; 4, 5, 6: d.
    private static TestContent Content() => new(32 * 1024,
    [
        ("t/a", 40_000, false),
        ("t/s/b", 30_000, false),
        ("t/s/c", 60_000, false),
        ("t/.pad/x", 1_000, true),
        ("t/d", 80_000, false),
    ], seed: 33);

    private static readonly InfoHash Ih = new(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());

    private static List<int> Missing(BitField f)
    {
        var list = new List<int>();
        for (int i = 0; i < f.Length; i++) if (!f[i]) list.Add(i);
        return list;
    }

    /// <summary>Overwrites bytes of a file in place, keeping its length, then restores the given last-write time.</summary>
    private static void Scribble(string path, long offset, int count, long restoreTicks)
    {
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            f.Position = offset;
            f.Write(Enumerable.Repeat((byte)0xEE, count).ToArray());
        }
        File.SetLastWriteTimeUtc(path, new DateTime(restoreTicks, DateTimeKind.Utc));
    }

    private static async Task<ResumeData> WriteAllAndCapture(DiskService disk, TestContent c, string dir)
    {
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir);
        await c.WriteAllAsync(s, 16 * 1024);
        await s.FlushAsync();
        ResumeData r = await s.CaptureResumeAsync(Ih);
        Assert.Equal(c.Layout.PieceCount, r.VerifiedCount);
        return r;
    }

    private sealed class MaxProgress : IProgress<int>
    {
        public int Max;
        public void Report(int value) { lock (this) Max = Math.Max(Max, value); }
    }

    [Fact]
    public async Task Capture_records_lengths_and_times_and_marks_padding_absent()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r = await WriteAllAndCapture(disk, c, dir.Path);
        Assert.Equal(c.Layout.Files.Count, r.Files.Count);
        Assert.Equal(c.Layout.PieceLength, r.PieceLength);
        Assert.True(r.Files[3].IsAbsent);
        string a = Path.Combine(dir.Path, "t", "a");
        Assert.Equal(new ResumeFileState(40_000, File.GetLastWriteTimeUtc(a).Ticks), r.Files[0]);
        Assert.Equal(80_000, r.Files[4].Length);
    }

    [Fact]
    public async Task Unchanged_files_are_trusted_without_reading()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        string path = Path.Combine(dir.Path, "t.resume");
        ResumeFile.Save(path, await WriteAllAndCapture(disk, c, dir.Path));
        ResumeData r = ResumeFile.TryLoad(path, Ih, out _)!;

        // Garbage in piece 0 (file a) and piece 5 (file d), same length, same recorded last-write time. Trusting
        // it is the fast-resume trade-off (libtorrent does the same): a file whose size and mtime are unchanged is
        // not read. Reporting the garbage pieces as verified proves that nothing was hashed.
        Scribble(Path.Combine(dir.Path, "t", "a"), 100, 500, r.Files[0].LastWriteUtcTicks);
        Scribble(Path.Combine(dir.Path, "t", "d"), 163_840 - 131_000 + 10, 500, r.Files[4].LastWriteUtcTicks);

        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Null(s.DescribeResumeMismatch(r));
        var progress = new MaxProgress();
        BitField have = await s.CheckExistingAsync(r, progress, CancellationToken.None);
        Assert.True(have.AllSet);
        Assert.True(s.IsPieceVerified(5));
        Assert.Equal(c.Layout.PieceCount, progress.Max);

        // The same disk without resume data: the garbage is found.
        await using var full = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal([0, 5], Missing(await full.CheckExistingAsync(null, CancellationToken.None)));
    }

    [Fact]
    public async Task A_changed_last_write_time_rehashes_the_pieces_of_that_file_only()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r = await WriteAllAndCapture(disk, c, dir.Path);
        Scribble(Path.Combine(dir.Path, "t", "a"), 100, 500, r.Files[0].LastWriteUtcTicks); // piece 0, mtime restored
        Scribble(Path.Combine(dir.Path, "t", "d"), 163_840 - 131_000 + 10, 500, r.Files[4].LastWriteUtcTicks + 1); // piece 5, mtime moved by 100 ns

        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        BitField have = await s.CheckExistingAsync(r, null, CancellationToken.None);
        Assert.Equal([5], Missing(have)); // d rehashed (3, 4, 6 are fine), a trusted
        Assert.False(s.IsPieceVerified(5));
    }

    [Fact]
    public async Task A_changed_length_rehashes_the_pieces_of_that_file()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r = await WriteAllAndCapture(disk, c, dir.Path);
        string b = Path.Combine(dir.Path, "t", "s", "b");
        Scribble(b, 0, 10, r.Files[1].LastWriteUtcTicks); // first bytes of b: piece 1
        using (var f = new FileStream(b, FileMode.Open)) f.SetLength(30_001);
        File.SetLastWriteTimeUtc(b, new DateTime(r.Files[1].LastWriteUtcTicks, DateTimeKind.Utc));

        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal([1], Missing(await s.CheckExistingAsync(r, null, CancellationToken.None)));
    }

    [Fact]
    public async Task A_deleted_file_loses_its_pieces()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r = await WriteAllAndCapture(disk, c, dir.Path);
        File.Delete(Path.Combine(dir.Path, "t", "s", "c"));
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal([2, 3], Missing(await s.CheckExistingAsync(r, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Pieces_completed_after_the_snapshot_are_found_by_hashing()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r;
        await using (var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path))
        {
            for (int p = 0; p < 3; p++)
                foreach (var (o, l) in c.Blocks(p, 16 * 1024)) await s.WriteBlockAsync(p, o, c.Block(p, o, l));
            r = await s.CaptureResumeAsync(Ih);
            Assert.Equal(3, r.VerifiedCount);
            for (int p = 3; p < c.Layout.PieceCount; p++)
                foreach (var (o, l) in c.Blocks(p, 16 * 1024)) await s.WriteBlockAsync(p, o, c.Block(p, o, l));
        }
        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.True((await fresh.CheckExistingAsync(r, null, CancellationToken.None)).AllSet);
    }

    [Fact]
    public async Task Resume_data_of_another_layout_is_ignored()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r = await WriteAllAndCapture(disk, c, dir.Path);
        Scribble(Path.Combine(dir.Path, "t", "a"), 100, 500, r.Files[0].LastWriteUtcTicks);
        var wrong = new ResumeData(Ih, r.PieceLength, new BitField(r.PieceCount + 1), r.Files, r.CapturedUtcTicks);
        var wrongFiles = new ResumeData(Ih, r.PieceLength, r.ToBitField(), r.Files.Take(4).ToArray(), r.CapturedUtcTicks);

        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.NotNull(s.DescribeResumeMismatch(wrong));
        Assert.NotNull(s.DescribeResumeMismatch(wrongFiles));
        Assert.Equal([0], Missing(await s.CheckExistingAsync(wrong, null, CancellationToken.None)));
        Assert.Equal([0], Missing(await s.CheckExistingAsync(wrongFiles, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Pieces_touching_a_skipped_file_are_never_trusted()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        ResumeData r;
        await using (var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { SkippedFiles = new HashSet<int> { 1 } }))
        {
            await c.WriteAllAsync(s, 16 * 1024); // pieces 1 and 2 verify in memory; b is never written
            Assert.True(s.IsPieceVerified(1));
            Assert.False(s.IsWhollyStored(1)); // no copy kept: part of it is nowhere to read back
            r = await s.CaptureResumeAsync(Ih);
        }
        Assert.True(r.Files[1].IsAbsent);
        Assert.True(r.IsVerified(1));
        Assert.False(File.Exists(Path.Combine(dir.Path, "t", "s", "b")));
        // b is selected now: the pieces that need it must not look complete.
        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal([1, 2], Missing(await fresh.CheckExistingAsync(r, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Pieces_straddling_a_skipped_file_are_kept_whole_read_back_and_rechecked()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        string parts = Path.Combine(dir.Path, ".parts");
        var options = new StorageOptions { SkippedFiles = new HashSet<int> { 1 }, PartsDirectory = parts };
        await using (var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, options))
        {
            await c.WriteAllAsync(s, 16 * 1024);
            Assert.True(s.IsWhollyStored(1) && s.IsWhollyStored(2) && s.IsWhollyStored(0));
            // Piece 1 is a + b: a's bytes come from a, b's from the kept copy.
            var block = new byte[16 * 1024];
            await s.ReadBlockAsync(1, 16 * 1024, block);
            Assert.Equal(c.Block(1, 16 * 1024, block.Length).ToArray(), block);
            Assert.False(s.TryReadBlockCached(1, 16 * 1024, block)); // the copy is read by a disk worker, not as zeros
        }
        Assert.False(File.Exists(Path.Combine(dir.Path, "t", "s", "b")));
        Assert.Equal(new[] { "1.piece", "2.piece" }, Directory.GetFiles(parts).Select(f => Path.GetFileName(f)).Order().ToArray());

        // A restart with the same selection verifies pieces 1 and 2 from their files and copies.
        await using (var again = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, options))
            Assert.Empty(Missing(await again.CheckExistingAsync()));

        // A lost copy: that piece is missing again, and reading it is a clear error, not zeros.
        File.Delete(Path.Combine(parts, "2.piece"));
        await using (var lost = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, options))
        {
            Assert.Equal([2], Missing(await lost.CheckExistingAsync()));
            var e = await Assert.ThrowsAsync<StorageException>(async () => await lost.ReadBlockAsync(2, 0, new byte[1024]));
            Assert.Equal(StorageErrorKind.NotFound, e.Kind);
        }

        // b selected now: the copies go, and the pieces that need b (never written) are missing.
        await using (var all = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { PartsDirectory = parts }))
            Assert.Equal([1, 2], Missing(await all.CheckExistingAsync()));
        Assert.False(Directory.Exists(parts));
    }

    [Fact]
    public async Task Flush_covers_files_whose_handle_was_closed_and_tolerates_deleted_ones()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(maxOpenFiles: 1);
        TestContent c = Content();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        await c.WriteAllAsync(s, 16 * 1024);
        File.Delete(Path.Combine(dir.Path, "t", "a"));
        await s.FlushAsync(); // reopens b, c, d to fsync them; a is gone
        ResumeData r = await s.CaptureResumeAsync(Ih);
        Assert.True(r.Files[0].IsAbsent);
        Assert.False(File.Exists(Path.Combine(dir.Path, "t", "a"))); // not recreated by the flush
    }

    [Theory]
    [InlineData(32L * 1024 * 1024)] // buffered: pieces reach the disk only once verified
    [InlineData(0L)] // direct: unverified blocks are on disk at the crash
    public async Task Crash_after_a_save_resumes_with_correct_pieces_and_ends_byte_identical(long cacheBudget)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = new(16 * 1024, [("t/a", 50_000, false), ("t/b", 3_000, false), ("t/c", 120_000, false)], seed: 5);
        var options = new StorageOptions { WriteCacheBudget = cacheBudget };
        string resumePath = Path.Combine(dir.Path, "t.resume");
        int pieces = c.Layout.PieceCount; // 11
        var order = Enumerable.Range(0, pieces).ToArray();
        new Random(9).Shuffle(order);

        var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, options);
        for (int i = 0; i < 4; i++)
            foreach (var (o, l) in c.Blocks(order[i], 4096)) await s.WriteBlockAsync(order[i], o, c.Block(order[i], o, l));
        ResumeFile.Save(resumePath, await s.CaptureResumeAsync(Ih)); // capture flushes first
        for (int i = 4; i < 7; i++)
            foreach (var (o, l) in c.Blocks(order[i], 4096)) await s.WriteBlockAsync(order[i], o, c.Block(order[i], o, l));
        // Half of a piece, and a piece with a wrong block: unverified data (on disk in direct mode).
        var half = c.Blocks(order[7], 4096);
        for (int k = 0; k < half.Count / 2; k++) await s.WriteBlockAsync(order[7], half[k].Offset, c.Block(order[7], half[k].Offset, half[k].Length));
        foreach (var (o, l) in c.Blocks(order[8], 4096))
            await s.WriteBlockAsync(order[8], o, o == 0 ? new byte[l] : c.Block(order[8], o, l));
        await s.DisposeAsync(); // "crash": no flush, no new resume file

        ResumeData? r = ResumeFile.TryLoad(resumePath, Ih, out string? reason);
        Assert.NotNull(r);
        Assert.Null(reason);
        var s2 = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, options);
        BitField have = await s2.CheckExistingAsync(r, null, CancellationToken.None);
        for (int i = 0; i < 7; i++) Assert.True(have[order[i]], $"piece {order[i]} written before the crash");
        Assert.False(have[order[7]]);
        Assert.False(have[order[8]]);
        var buffer = new byte[c.Layout.PieceLength];
        for (int p = 0; p < pieces; p++)
        {
            if (!have[p]) continue;
            int size = c.Layout.GetPieceSize(p);
            await s2.ReadBlockAsync(p, 0, buffer.AsMemory(0, size));
            Assert.True(buffer.AsSpan(0, size).SequenceEqual(c.Block(p, 0, size).Span), $"piece {p} reported verified but wrong on disk");
        }

        // Finish: only what is missing is downloaded, and the result is byte-identical.
        int written = 0;
        for (int p = 0; p < pieces; p++)
        {
            if (have[p]) continue;
            foreach (var (o, l) in c.Blocks(p, 4096))
            {
                BlockWriteResult res = await s2.WriteBlockAsync(p, o, c.Block(p, o, l));
                Assert.NotEqual(BlockWriteResult.Ignored, res);
            }
            written++;
        }
        Assert.Equal(pieces - 7, written);
        ResumeFile.Save(resumePath, await s2.CaptureResumeAsync(Ih));
        await s2.DisposeAsync();
        for (int f = 0; f < c.Layout.Files.Count; f++)
            Assert.Equal(c.FileBytes(f), File.ReadAllBytes(Path.Combine(dir.Path, "t", ((string[])["a", "b", "c"])[f])));

        // And the final resume file alone vouches for everything.
        await using var s3 = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, options);
        ResumeData final = ResumeFile.TryLoad(resumePath, Ih, out _)!;
        Assert.Equal(pieces, final.VerifiedCount);
        Assert.True((await s3.CheckExistingAsync(final, null, CancellationToken.None)).AllSet);
    }
}
