using System.Globalization;
using Shoal.Cli;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// The user's own files: <c>share</c> never writes into what it shares, <c>get</c> says what it will write over before
/// it does, no link inside the download folder is ever followed, and a finished file is exactly the torrent's. Every
/// case has an honest seeder on 127.0.0.1 ready to hand over the torrent's real data, so a write would happen if allowed.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class DataSafetyTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int Size = 1024 * KiB;
    private const int PieceLength = 64 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(TimeSpan limit, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource(limit);
        int code = await Program.RunAsync(args, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), stop.Token);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string[] Quietly(string[] args, ShoalSession seeder) =>
        [.. args, "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--peer", seeder.ListenEndPoint.ToString()];

    private static async Task<string> WriteTorrentAsync(FaultHarness h)
    {
        string path = Path.Combine(h.Root, "data.torrent");
        await File.WriteAllBytesAsync(path, h.Torrent.ToBytes());
        return path;
    }

    [Fact]
    public async Task ShareOnMismatchedDataSaysHowMuchMatchesExitsNonZeroAndLeavesTheFileByteIdentical()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 41);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string torrent = await WriteTorrentAsync(h);
        string mine = Path.Combine(h.Root, "mine");
        Directory.CreateDirectory(mine);
        string file = Path.Combine(mine, "data.bin");
        byte[] users = new byte[Size];
        new Random(4100).NextBytes(users);
        await File.WriteAllBytesAsync(file, users);
        DateTime written = File.GetLastWriteTimeUtc(file);

        (int code, string stdout, string stderr) = await RunCliAsync(TimeSpan.FromSeconds(15), Quietly(["share", file, "--torrent", torrent, "-q"], seeder));

        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(1, code);
        Assert.Contains($"shoal: error: {file}: 0 of {h.Torrent.PieceCount} pieces match this torrent", stderr, StringComparison.Ordinal);
        Assert.Equal(users, await File.ReadAllBytesAsync(file));
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));
    }

    [Fact]
    public async Task ShareOnPartlyMatchingDataCountsTheMatchingPieces()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 42);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string torrent = await WriteTorrentAsync(h);
        string mine = Path.Combine(h.Root, "mine");
        Directory.CreateDirectory(mine);
        string file = Path.Combine(mine, "data.bin");
        byte[] users = (byte[])h.Content.Clone();
        foreach (int piece in new[] { 1, 5, 9 }) users[piece * PieceLength + 7] ^= 0xFF;
        await File.WriteAllBytesAsync(file, users);

        (int code, _, string stderr) = await RunCliAsync(TimeSpan.FromSeconds(15), Quietly(["share", file, "--torrent", torrent, "-q"], seeder));

        Assert.Equal(1, code);
        Assert.Contains($"{file}: {h.Torrent.PieceCount - 3} of {h.Torrent.PieceCount} pieces match this torrent", stderr, StringComparison.Ordinal);
        Assert.Equal(users, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task ASeedOnlyTorrentUploadsWhatMatchesAndNeverWritesNorCreates()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 43);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string mine = Path.Combine(h.Root, "mine");
        Directory.CreateDirectory(mine);
        string file = Path.Combine(mine, "data.bin");
        byte[] users = (byte[])h.Content.Clone();
        users[3 * PieceLength] ^= 1;
        await File.WriteAllBytesAsync(file, users);

        ShoalSession session = await h.StartSessionAsync("seedonly");
        TorrentHandle handle = await session.AddTorrentAsync(h.Torrent, new TorrentOptions
        {
            DownloadDirectory = mine,
            SeedOnly = true,
            Peers = [seeder.ListenEndPoint],
        });
        await FaultHarness.WaitUntilAsync(() => handle.GetStatus().State == TorrentState.Seeding, Bounded, "not seeding");
        // A leecher takes the matching pieces from it (the one that does not match from the seeder).
        Leecher leecher = await h.StartLeecherAsync(session.ListenEndPoint, seeder.ListenEndPoint);
        await h.AssertCompletesAsync(leecher, Bounded);

        TorrentStatus status = handle.GetStatus();
        Assert.Equal(h.Torrent.PieceCount - 1, status.VerifiedPieces);
        Assert.Equal(0, status.Downloaded);
        Assert.False(handle.Completion.IsCompleted);
        Assert.All(handle.GetPeers(), p => Assert.False(p.AmInterested));
        Assert.Equal(users, await File.ReadAllBytesAsync(file));
        await FaultHarness.WaitUntilAsync(() => handle.GetStatus().Uploaded > 0, Bounded, "the seed-only torrent uploaded nothing");

        // A seed-only torrent whose file is missing creates nothing.
        string empty = Path.Combine(h.Root, "empty");
        Directory.CreateDirectory(empty);
        TorrentHandle nothing = await (await h.StartSessionAsync("nothing")).AddTorrentAsync(h.Torrent,
            new TorrentOptions { DownloadDirectory = empty, SeedOnly = true, Peers = [seeder.ListenEndPoint] });
        await FaultHarness.WaitUntilAsync(() => nothing.GetStatus().State == TorrentState.Seeding, Bounded, "not seeding");
        await Task.Delay(500);
        Assert.Empty(Directory.EnumerateFileSystemEntries(empty));
    }

    [Fact]
    public async Task GetIntoAFolderHoldingOtherContentSaysSoBeforeWritingThenCompletes()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 44);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string torrent = await WriteTorrentAsync(h);
        string folder = Path.Combine(h.Root, "downloads");
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, "data.bin");
        byte[] users = (byte[])h.Content.Clone();
        for (int piece = 0; piece < 4; piece++) users[piece * PieceLength] ^= 0x55;
        await File.WriteAllBytesAsync(file, users);

        (int code, string stdout, string stderr) = await RunCliAsync(Bounded, Quietly(["get", torrent, "-o", folder, "--exit-when-done"], seeder));

        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(0, code);
        int pieces = h.Torrent.PieceCount;
        Assert.Contains($"shoal: existing {file}: {pieces - 4} of {pieces} of its pieces match this torrent; the other 4 will be written over", stderr, StringComparison.Ordinal);
        Assert.Equal(h.Content, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task TheEngineReportsExistingDataBeforeItWritesAByte()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 45);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string folder = Path.Combine(h.Root, "downloads");
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, "data.bin");
        byte[] users = new byte[Size / 2];
        new Random(4500).NextBytes(users);
        await File.WriteAllBytesAsync(file, users);
        ExistingData? seen = null;
        byte[]? onDiskWhenTold = null;

        ShoalSession session = await h.StartSessionAsync("getter");
        TorrentHandle handle = await session.AddTorrentAsync(h.Torrent, new TorrentOptions
        {
            DownloadDirectory = folder,
            Peers = [seeder.ListenEndPoint],
            DataChecked = async (data, ct) =>
            {
                seen = data;
                await Task.Delay(500, ct); // peers are connected and eager meanwhile: still nothing may be written
                onDiskWhenTold = await File.ReadAllBytesAsync(file, ct);
            },
        });
        await h.AssertCompletesAsync(new Leecher(session, handle, file), Bounded);

        Assert.NotNull(seen);
        Assert.Equal(0, seen.VerifiedPieces);
        ExistingFileConflict conflict = Assert.Single(seen.Conflicts);
        Assert.Equal((file, Size / 2L, (long)Size), (conflict.Path, conflict.Length, conflict.ExpectedLength));
        Assert.True(conflict.WillBeWritten);
        Assert.False(conflict.WillBeCut);
        Assert.Equal(users, onDiskWhenTold);
    }

    [Fact]
    public async Task AFileLongerThanTheTorrentsEndsExactlyAtTheTorrentsLengthWhenComplete()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 46);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string torrent = await WriteTorrentAsync(h);
        string folder = Path.Combine(h.Root, "downloads");
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, "data.bin");
        // The torrent's data followed by a tail: every piece matches, only the length is wrong.
        await File.WriteAllBytesAsync(file, [.. h.Content, .. new byte[100_000]]);

        (int code, string stdout, string stderr) = await RunCliAsync(Bounded, Quietly(["get", torrent, "-o", folder, "--exit-when-done"], seeder));

        output.WriteLine(stderr);
        Assert.Equal(0, code);
        Assert.Contains("complete and verified", stdout, StringComparison.Ordinal);
        Assert.Contains($"shoal: existing {file}: it is ", stderr, StringComparison.Ordinal);
        Assert.Contains("past its end will be cut", stderr, StringComparison.Ordinal);
        Assert.Equal(h.Content.Length, new FileInfo(file).Length);
        Assert.Equal(h.Content, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task GetNeverWritesThroughALinkInTheDownloadFolder()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Size, PieceLength, seed: 47);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        string torrent = await WriteTorrentAsync(h);
        string elsewhere = Path.Combine(h.Root, "precious.txt");
        await File.WriteAllTextAsync(elsewhere, "the user's own file, outside the download folder");
        string folder = Path.Combine(h.Root, "downloads");
        Directory.CreateDirectory(folder);
        string link = Path.Combine(folder, "data.bin");
        File.CreateSymbolicLink(link, elsewhere);

        (int code, _, string stderr) = await RunCliAsync(Bounded, Quietly(["get", torrent, "-o", folder, "--exit-when-done"], seeder));

        output.WriteLine(stderr);
        Assert.Equal(1, code);
        Assert.Contains($"'{link}' is a symbolic link", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith("shoal: error: ", StringComparison.Ordinal));
        Assert.Equal("the user's own file, outside the download folder", await File.ReadAllTextAsync(elsewhere));
        Assert.NotNull(new FileInfo(link).LinkTarget); // the link itself is left alone too
    }

    [Fact]
    public async Task AMultiFileDownloadNeverWritesThroughALinkedSubfolder()
    {
        string root = Directory.CreateTempSubdirectory("shoal-links-").FullName;
        try
        {
            string source = Path.Combine(root, "src", "album");
            Directory.CreateDirectory(Path.Combine(source, "disc1"));
            await File.WriteAllBytesAsync(Path.Combine(source, "disc1", "track.bin"), new byte[40_000]);
            await File.WriteAllBytesAsync(Path.Combine(source, "cover.bin"), new byte[1000]);
            Torrent torrent = await TorrentCreator.CreateAsync(source, new TorrentCreationOptions { PieceLength = 16 * KiB });
            string outside = Path.Combine(root, "outside");
            Directory.CreateDirectory(outside);
            string downloads = Path.Combine(root, "downloads", "album");
            Directory.CreateDirectory(downloads);
            Directory.CreateSymbolicLink(Path.Combine(downloads, "disc1"), outside);

            await using var disk = new DiskService(1);
            await using TorrentStorage storage = TorrentStorage.Create(disk, StorageLayout.FromTorrent(torrent), Sha1PieceVerifier.For(torrent), Path.Combine(root, "downloads"));
            var check = await Assert.ThrowsAsync<StorageException>(() => storage.CheckExistingAsync());
            Assert.Equal(StorageErrorKind.SymbolicLink, check.Kind);
            int trackPiece = 0; // disc1/track.bin sorts first
            var write = await Assert.ThrowsAsync<StorageException>(async () =>
                await storage.WriteBlockAsync(trackPiece, 0, new byte[torrent.GetPieceSize(trackPiece)]));
            Assert.Equal(StorageErrorKind.SymbolicLink, write.Kind);
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
