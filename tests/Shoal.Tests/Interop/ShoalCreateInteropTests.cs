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
