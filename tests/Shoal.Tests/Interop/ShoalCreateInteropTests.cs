using Shoal.Metainfo;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>Torrents made by <c>shoal create</c> read the same in libtorrent and Transmission, and the other way round.</summary>
[Collection(InteropCollection.Name)]
public sealed class ShoalCreateInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(120);

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CreatedTorrentHasTheInfoHashLibtorrentComputes(bool singleFile)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        string content;
        if (singleFile)
        {
            content = temp.Combine("single.bin");
            TestContent.WriteRandomFile(content, 3 * 1024 * 1024 + 17, new Random(21));
        }
        else
        {
            content = temp.Combine("folder");
            TestContent.WriteMultiFileFolder(content, 3 << 20, seed: 22);
        }
        var torrent = temp.Combine("made-by-shoal.torrent");

        var create = await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent);
        output.WriteLine(create.Transcript);
        InteropAssert.Succeeded(create);
        Assert.True(File.Exists(torrent), "shoal create wrote no file at " + torrent);

        var lt = await LibtorrentScripts.ReadTorrentAsync(torrent);
        output.WriteLine($"libtorrent: v1={lt.V1} v2={lt.V2} pieces={lt.PieceCount}x{lt.PieceLength}");
        Assert.NotNull(lt.V1);
        Assert.Contains(lt.V1, InteropAssert.HexInfoHashes(create.Output));
        var magnet = InteropAssert.MagnetLink(create.Output);
        Assert.NotNull(magnet);
        Assert.Contains("xt=urn:btih:" + lt.V1, magnet, StringComparison.OrdinalIgnoreCase);

        var info = await ShoalCli.RunAsync(CliTimeout, "info", torrent);
        output.WriteLine(info.Transcript);
        InteropAssert.Succeeded(info);
        Assert.Contains(lt.V1, InteropAssert.HexInfoHashes(info.Output));

        // Same files, same sizes, as libtorrent sees them.
        var name = Path.GetFileName(content);
        Assert.Equal(name, lt.Name);
        var expected = singleFile
            ? [(name, new FileInfo(content).Length)]
            : Directory.EnumerateFiles(content, "*", SearchOption.AllDirectories)
                .Select(f => (name + "/" + Path.GetRelativePath(content, f).Replace('\\', '/'), new FileInfo(f).Length))
                .Order()
                .ToList();
        Assert.Equal(expected, lt.Files.Select(f => (f.Path, f.Size)).Order().ToList());

        // READY from the libtorrent seeder means it hashed the original data against Shoal's piece hashes.
        var (seeder, _) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Path, "--quiet");
        seeder.Dispose();
    }

    [InteropTheory]
    [InlineData("v2", true, 16384)]
    [InlineData("v2", false, 16384)]
    [InlineData("v2", false, 1 << 20)]
    [InlineData("hybrid", true, 32768)]
    [InlineData("hybrid", false, 16384)]
    [InlineData("hybrid", false, 4 << 20)]
    public async Task V2AndHybridTorrentsHaveTheInfoHashesLibtorrentMakes(string mode, bool singleFile, int pieceSize)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        string content;
        if (singleFile)
        {
            content = temp.Combine("single.bin");
            TestContent.WriteRandomFile(content, 3 * 1024 * 1024 + 17, new Random(31));
        }
        else
        {
            content = temp.Combine("folder");
            TestContent.WriteMultiFileFolder(content, 3 << 20, seed: 32);
            File.WriteAllBytes(Path.Combine(content, "sub", "empty"), []);
            if (!OperatingSystem.IsWindows())
            {
                string script = Path.Combine(content, "run.sh");
                File.WriteAllText(script, "#!/bin/sh\necho hi\n");
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // attr 'x'
            }
        }
        string byShoal = temp.Combine("by-shoal.torrent"), byLibtorrent = temp.Combine("by-libtorrent.torrent");
        string size = pieceSize.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var create = await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", byShoal, "--" + mode, "--piece-size", size);
        output.WriteLine(create.Transcript);
        InteropAssert.Succeeded(create);
        await LibtorrentScripts.MakeTorrentAsync(content, byLibtorrent, mode, pieceSize);

        var shoalRead = await LibtorrentScripts.ReadTorrentAsync(byShoal);
        var ltRead = await LibtorrentScripts.ReadTorrentAsync(byLibtorrent);
        output.WriteLine($"libtorrent's torrent: v1={ltRead.V1} v2={ltRead.V2}; Shoal's: v1={shoalRead.V1} v2={shoalRead.V2}");
        Assert.NotNull(ltRead.V2);
        Assert.Equal(ltRead.V1, shoalRead.V1);
        Assert.Equal(ltRead.V2, shoalRead.V2);
        Assert.Contains("info-hash v2: " + ltRead.V2, create.Output, StringComparison.Ordinal);

        // Shoal reads libtorrent's torrent the same way: hashes, files, padding, per-file roots and piece layers.
        Torrent mine = Torrent.Load(byShoal), theirs = Torrent.Load(byLibtorrent);
        Assert.Equal(theirs.InfoHashV1, mine.InfoHashV1);
        Assert.Equal(theirs.InfoHashV2, mine.InfoHashV2);
        Assert.Equal(theirs.Files.Select(f => (f.Path, f.Length, f.IsPadding, f.PiecesRoot, f.Attributes)), mine.Files.Select(f => (f.Path, f.Length, f.IsPadding, f.PiecesRoot, f.Attributes)));
        Assert.True(theirs.HasPieceLayers && mine.HasPieceLayers);
        for (int i = 0; i < mine.Files.Count; i++) Assert.Equal(theirs.GetPieceLayer(i).ToArray(), mine.GetPieceLayer(i).ToArray());

        // READY from a libtorrent seeder means it checked the data against Shoal's hashes (v2: the merkle trees).
        var (seeder, _) = await LibtorrentScripts.StartSeederAsync(byShoal, temp.Path, "--quiet");
        seeder.Dispose();
    }

    [InteropFact]
    public async Task CreateOptionsAreReadByLibtorrent()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("options");
        TestContent.WriteMultiFileFolder(content, 1 << 20, seed: 23);
        var torrent = temp.Combine("options.torrent");
        const string comment = "interop comment \u00e9\u00e8 \u2713";
        string[] trackers = ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969"];

        var create = await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent, "--piece-size", "32768",
            "--private", "--comment", comment, "--tracker", trackers[0], "--tracker", trackers[1]);
        output.WriteLine(create.Transcript);
        InteropAssert.Succeeded(create);

        var lt = await LibtorrentScripts.ReadTorrentAsync(torrent);
        Assert.Equal(32768, lt.PieceLength);
        Assert.True(lt.IsPrivate);
        Assert.Equal(comment, lt.Comment);
        Assert.Equal(trackers, lt.Trackers);
        Assert.Contains(lt.V1!, InteropAssert.HexInfoHashes(create.Output));

        var (seeder, _) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Path, "--quiet");
        seeder.Dispose();
    }

    [InteropFact(InteropClients.Libtorrent | InteropClients.Transmission)]
    public async Task TransmissionAndShoalAgreeOnInfoHashes()
    {
        var environment = InteropEnvironment.Current;
        environment.Require(InteropClients.Libtorrent | InteropClients.Transmission);
        using var temp = new TempFolder();
        var content = temp.Combine("tr");
        TestContent.WriteMultiFileFolder(content, 1 << 20, seed: 24);

        // Shoal makes, Transmission reads.
        var shoalTorrent = temp.Combine("by-shoal.torrent");
        InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", shoalTorrent));
        var show = await ChildProcess.RunAsync(environment.TransmissionShowPath!, [shoalTorrent], CliTimeout);
        output.WriteLine(show.Transcript);
        InteropAssert.Succeeded(show);
        var lt = await LibtorrentScripts.ReadTorrentAsync(shoalTorrent);
        Assert.Contains(lt.V1!, InteropAssert.HexInfoHashes(show.Output));

        // Transmission makes, Shoal reads.
        var trTorrent = temp.Combine("by-transmission.torrent");
        var make = await ChildProcess.RunAsync(environment.TransmissionCreatePath!, ["-o", trTorrent, "-s", "32", content], CliTimeout);
        output.WriteLine(make.Transcript);
        InteropAssert.Succeeded(make);
        var trInfo = await LibtorrentScripts.ReadTorrentAsync(trTorrent);
        var info = await ShoalCli.RunAsync(CliTimeout, "info", trTorrent);
        output.WriteLine(info.Transcript);
        InteropAssert.Succeeded(info);
        Assert.Contains(trInfo.V1!, InteropAssert.HexInfoHashes(info.Output));
    }
}
