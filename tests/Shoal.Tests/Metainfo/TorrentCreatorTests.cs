using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Tests.Metainfo;

public sealed class TorrentCreatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shoal-create-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] RandomBytes(int seed, int length)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static void AssertPieceHashes(Torrent torrent, byte[] content)
    {
        Assert.Equal(content.Length, torrent.TotalSize);
        for (int i = 0; i < torrent.PieceCount; i++)
        {
            int start = i * torrent.PieceLength;
            int size = Math.Min(torrent.PieceLength, content.Length - start);
            Assert.Equal(size, torrent.GetPieceSize(i));
            Assert.Equal(SHA1.HashData(content.AsSpan(start, size)), torrent.GetPieceHash(i).ToArray());
        }
    }

    [Fact]
    public async Task Creates_a_multi_file_torrent_from_a_nested_folder_in_ordinal_order()
    {
        string root = Path.Combine(_dir, "My Folder");
        Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
        Directory.CreateDirectory(Path.Combine(root, "emptydir"));
        // Written out of order and with sizes that cross piece boundaries.
        var files = new (string Relative, byte[] Data)[]
        {
            ("b.bin", RandomBytes(1, 50_000)),
            ("a.txt", RandomBytes(2, 7)),
            ("sub/deeper/z.dat", RandomBytes(3, 33_000)),
            ("sub/empty", []),
            ("C.bin", RandomBytes(4, 16_384)),
        };
        foreach ((string rel, byte[] data) in files) File.WriteAllBytes(Path.Combine(root, rel), data);

        var progress = new List<long>();
        var options = new TorrentCreationOptions
        {
            PieceLength = 16 * 1024,
            AnnounceTiers = [["http://t1/announce", "http://t2/announce"], ["udp://t3:80"]],
            Comment = "made in a test",
            IsPrivate = true,
            CreationDate = DateTimeOffset.FromUnixTimeSeconds(1_600_000_000),
        };
        Torrent created = await TorrentCreator.CreateAsync(root + Path.DirectorySeparatorChar, options, new SyncProgress(progress));
        Torrent t = Torrent.Parse(created.ToBytes());

        Assert.Equal(created.InfoHash, t.InfoHash);
        Assert.True(t.IsMultiFile);
        Assert.Equal("My Folder", t.Name);
        string[] expectedOrder = ["C.bin", "a.txt", "b.bin", "sub/deeper/z.dat", "sub/empty"];
        Assert.Equal(expectedOrder.Select(p => "My Folder/" + p), t.Files.Select(f => f.Path));
        byte[] content = [.. expectedOrder.SelectMany(p => files.Single(f => f.Relative == p).Data)];
        AssertPieceHashes(t, content);
        Assert.True(t.IsPrivate);
        Assert.Equal("made in a test", t.Comment);
        Assert.Equal(ShoalVersion.ClientName, t.CreatedBy);
        Assert.Equal(options.CreationDate, t.CreationDate);
        Assert.Equal(2, t.AnnounceTiers.Count);
        Assert.Equal(["http://t1/announce", "http://t2/announce"], t.AnnounceTiers[0]);
        Assert.Equal(content.Length, progress[^1]);
    }

    [Fact]
    public async Task Creates_a_single_file_torrent_without_optional_fields()
    {
        string file = Path.Combine(_dir, "data.bin");
        byte[] data = RandomBytes(5, (3 * 1024 * 1024) + 12_345); // spans chunk boundaries of the reader
        await File.WriteAllBytesAsync(file, data);

        Torrent t = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { AnnounceTiers = [["http://only/announce"]], CreatedBy = null });
        Assert.False(t.IsMultiFile);
        Assert.Equal("data.bin", t.Name);
        Assert.Equal(TorrentCreator.ChoosePieceLength(data.Length), t.PieceLength);
        AssertPieceHashes(t, data);
        Assert.Null(t.CreationDate);
        Assert.Null(t.CreatedBy);
        Assert.Null(t.Comment);
        string text = System.Text.Encoding.Latin1.GetString(t.ToBytes());
        Assert.DoesNotContain("creation date", text, StringComparison.Ordinal);
        Assert.DoesNotContain("announce-list", text, StringComparison.Ordinal);
        Assert.Contains("8:announce20:http://only/announce", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Piece_length_larger_than_the_read_chunk_hashes_correctly()
    {
        string file = Path.Combine(_dir, "big.bin");
        byte[] data = RandomBytes(6, (9 * 1024 * 1024) + 1);
        await File.WriteAllBytesAsync(file, data);
        Torrent t = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 8 * 1024 * 1024 });
        Assert.Equal(2, t.PieceCount);
        AssertPieceHashes(t, data);
    }

    [Fact]
    public async Task Empty_folder_and_missing_path_give_clear_errors()
    {
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(Path.Combine(empty, "only-a-subfolder"));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(empty, new TorrentCreationOptions()));
        Assert.Contains("no files", e.Message, StringComparison.Ordinal);

        string zeros = Path.Combine(_dir, "zeros");
        Directory.CreateDirectory(zeros);
        File.WriteAllBytes(Path.Combine(zeros, "z"), []);
        e = await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(zeros, new TorrentCreationOptions()));
        Assert.Contains("no data", e.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<FileNotFoundException>(() => TorrentCreator.CreateAsync(Path.Combine(_dir, "nope"), new TorrentCreationOptions()));
    }

    [Fact]
    public async Task Invalid_piece_length_and_unsafe_names_are_rejected_before_hashing()
    {
        string file = Path.Combine(_dir, "x.bin");
        File.WriteAllBytes(file, [1, 2, 3]);
        await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 20_000 }));

        string folder = Path.Combine(_dir, "bad");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "back\\slash"), [1]);
        var e = await Assert.ThrowsAsync<MetainfoException>(() => TorrentCreator.CreateAsync(folder, new TorrentCreationOptions()));
        Assert.Contains("'backslash'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_that_clients_would_rename_are_refused_before_hashing()
    {
        if (OperatingSystem.IsWindows()) return; // case-only twins cannot exist there
        string folder = Path.Combine(_dir, "twins");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "Read.me"), [1]);
        File.WriteAllBytes(Path.Combine(folder, "read.ME"), [2]);
        var e = await Assert.ThrowsAsync<MetainfoException>(() => TorrentCreator.CreateAsync(folder, new TorrentCreationOptions()));
        Assert.Contains("letter case", e.Message, StringComparison.Ordinal);

        string control = Path.Combine(_dir, "control");
        Directory.CreateDirectory(control);
        File.WriteAllBytes(Path.Combine(control, "bell\a.txt"), [1]);
        e = await Assert.ThrowsAsync<MetainfoException>(() => TorrentCreator.CreateAsync(control, new TorrentCreationOptions()));
        Assert.Contains("bell_.txt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creates_a_hybrid_with_padding_piece_layers_and_both_hashes()
    {
        string root = Path.Combine(_dir, "hyb");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        byte[] a = RandomBytes(11, 50_000), b = RandomBytes(12, 7_000), c = RandomBytes(13, 32_768);
        File.WriteAllBytes(Path.Combine(root, "a.bin"), a);
        File.WriteAllBytes(Path.Combine(root, "sub", "b.txt"), b);
        File.WriteAllBytes(Path.Combine(root, "sub", "c.dat"), c);
        File.WriteAllBytes(Path.Combine(root, "sub", "empty"), []);
        Torrent t = await TorrentCreator.CreateAsync(root, new TorrentCreationOptions { PieceLength = 16384, Version = TorrentVersion.Hybrid });
        Torrent again = Torrent.Parse(t.ToBytes());

        Assert.Equal(TorrentVersion.Hybrid, again.Version);
        Assert.NotNull(again.InfoHashV1);
        Assert.NotNull(again.InfoHashV2);
        Assert.Equal(again.InfoHashV1, again.InfoHash);
        Assert.True(again.HasPieceLayers);
        // Every non-empty file starts on a piece boundary; padding follows each unaligned file, the last one too.
        Assert.Equal(["hyb/a.bin", "pad", "hyb/sub/b.txt", "pad", "hyb/sub/c.dat", "hyb/sub/empty"],
            again.Files.Select(f => f.IsPadding ? "pad" : f.Path));
        Assert.All(again.Files.Where(f => !f.IsPadding && f.Length > 0), f => Assert.Equal(0, f.Offset % again.PieceLength));
        Assert.Equal(MerkleTree.FromData(a).Root, again.Files[0].PiecesRoot);
        Assert.Equal(MerkleTree.FromData(c).GetPieceLayer(16384), again.GetPieceLayer(4).ToArray());
        Assert.Null(again.Files[5].PiecesRoot);

        // The v1 half hashes the padded stream; the v2 half each file's tree.
        byte[] stream = [.. a, .. new byte[again.Files[1].Length], .. b, .. new byte[again.Files[3].Length], .. c];
        AssertPieceHashes(again, stream);
        for (int piece = 0; piece < again.PieceCount; piece++)
        {
            int file = again.GetFileIndexAtPiece(piece);
            (int first, int count) = again.GetFilePieces(file);
            Assert.InRange(piece, first, first + count - 1);
            Assert.NotNull(again.GetPieceHashV2(piece));
        }
    }

    [Fact]
    public async Task Creates_a_v2_only_torrent_whose_wire_hash_is_the_truncated_v2_hash()
    {
        string file = Path.Combine(_dir, "v2.bin");
        byte[] data = RandomBytes(14, 100_000);
        File.WriteAllBytes(file, data);
        Torrent t = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 32768, Version = TorrentVersion.V2 });
        Assert.Equal(TorrentVersion.V2, t.Version);
        Assert.Null(t.InfoHashV1);
        Assert.Equal(t.InfoHashV2!.Value.Truncate(), t.InfoHash);
        Assert.True(t.PieceHashes.IsEmpty);
        Assert.Throws<InvalidOperationException>(() => t.GetPieceHash(0).ToArray());
        Assert.False(t.IsMultiFile);
        Assert.Equal("v2.bin", t.Name);
        Assert.Equal(MerkleTree.FromData(data).Root, t.Files[0].PiecesRoot);
        Assert.True(t.HasPieceLayers);
        MagnetLink magnet = t.ToMagnetLink();
        Assert.True(magnet.IsV2Only);
        Assert.StartsWith("magnet:?xt=urn:btmh:1220" + t.InfoHashV2.Value.ToHex(), magnet.ToString(), StringComparison.Ordinal);
        // The engine's v1 disk path (its verifier: SHA-1 pieces) says so in one line rather than failing obscurely.
        var e = Assert.Throws<MetainfoException>(() => Shoal.Storage.Sha1PieceVerifier.For(t));
        Assert.Contains("v2-only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_single_file_hybrid_has_no_padding()
    {
        string file = Path.Combine(_dir, "one.bin");
        File.WriteAllBytes(file, RandomBytes(15, 40_000));
        Torrent t = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 16384, Version = TorrentVersion.Hybrid });
        Assert.Equal(TorrentVersion.Hybrid, t.Version);
        Assert.Single(t.Files);
        Assert.Equal(40_000, t.TotalSize);
    }

    [Fact]
    public async Task Executable_files_get_attr_x()
    {
        if (OperatingSystem.IsWindows()) return;
        string root = Path.Combine(_dir, "exec");
        Directory.CreateDirectory(root);
        File.WriteAllBytes(Path.Combine(root, "run.sh"), "#!/bin/sh\n"u8.ToArray());
        File.SetUnixFileMode(Path.Combine(root, "run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllBytes(Path.Combine(root, "data.txt"), [1, 2, 3]);
        foreach (TorrentVersion version in new[] { TorrentVersion.V1, TorrentVersion.Hybrid, TorrentVersion.V2 })
        {
            Torrent t = await TorrentCreator.CreateAsync(root, new TorrentCreationOptions { Version = version });
            Assert.Equal(["exec/run.sh"], t.Files.Where(f => f.IsExecutable).Select(f => f.Path));
        }
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        string file = Path.Combine(_dir, "c.bin");
        File.WriteAllBytes(file, new byte[100_000]);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TorrentCreator.CreateAsync(file, new TorrentCreationOptions(), null, cts.Token));
    }

    [Fact]
    public async Task Symlinked_files_are_followed_and_symlinked_folders_are_not()
    {
        if (OperatingSystem.IsWindows()) return; // creating links needs privileges there
        string outside = Path.Combine(_dir, "outside");
        Directory.CreateDirectory(outside);
        byte[] data = RandomBytes(7, 1000);
        File.WriteAllBytes(Path.Combine(outside, "target.bin"), data);

        string root = Path.Combine(_dir, "linked");
        Directory.CreateDirectory(root);
        File.WriteAllBytes(Path.Combine(root, "real.bin"), [9, 9]);
        File.CreateSymbolicLink(Path.Combine(root, "link.bin"), Path.Combine(outside, "target.bin"));
        Directory.CreateSymbolicLink(Path.Combine(root, "linkdir"), outside);

        Torrent t = await TorrentCreator.CreateAsync(root, new TorrentCreationOptions());
        Assert.Equal(["linked/link.bin", "linked/real.bin"], t.Files.Select(f => f.Path));
        AssertPieceHashes(t, [.. data, 9, 9]);
        // libtorrent reads a link's own mode (rwx), so a followed link is marked executable: so does Shoal.
        Assert.Equal([true, false], t.Files.Select(f => f.IsExecutable));
    }

    [Theory]
    [InlineData(1L, 16 * 1024)]
    [InlineData(16L * 1024 * 1024, 16 * 1024)]
    [InlineData(32L * 1024 * 1024, 32 * 1024)]
    [InlineData(64L * 1024 * 1024, 64 * 1024)]
    [InlineData(1024L * 1024 * 1024, 1024 * 1024)]
    [InlineData(4096L * 1024 * 1024 * 1024, 16 * 1024 * 1024)]
    public void ChoosePieceLength_aims_at_at_most_2000_pieces(long totalSize, int expected)
    {
        Assert.Equal(expected, TorrentCreator.ChoosePieceLength(totalSize));
    }

    [Fact]
    public void ChoosePieceLength_gives_powers_of_two_in_range()
    {
        for (long size = 1; size < (1L << 42); size = (size * 3) + 1)
        {
            int p = TorrentCreator.ChoosePieceLength(size);
            Assert.True(p >= 16 * 1024 && p <= 16 * 1024 * 1024 && (p & (p - 1)) == 0);
            long pieces = (size + p - 1) / p;
            Assert.True(pieces <= 2000 || p == 16 * 1024 * 1024);
            Assert.True(p == 16 * 1024 || pieces > 1000, $"size {size}: {pieces} pieces of {p}");
        }
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this records synchronously so the test can read it at once.</summary>
    private sealed class SyncProgress(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }
}
