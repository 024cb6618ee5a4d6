using System.Globalization;
using Shoal.Metainfo;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// BEP 52 with libtorrent 2.0: v2-only and hybrid torrents, from the .torrent and from a magnet link, in both
/// directions. From a magnet the piece layers travel as hash request / hashes messages: libtorrent asks Shoal for them
/// when Shoal seeds, Shoal asks libtorrent when libtorrent seeds.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class V2InteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 6L << 20;

    [InteropTheory]
    [InlineData("v2", "torrent")]
    [InlineData("v2", "magnet")]
    [InlineData("hybrid", "magnet")]
    public async Task ShoalDownloadsFromLibtorrentSeeder(string mode, string source)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 52);
        var torrentFile = temp.Combine("payload.torrent");
        // 32 KiB pieces: the larger files' piece layers are several hundred hashes, fetched in more than one request.
        await LibtorrentScripts.MakeTorrentAsync(content, torrentFile, mode, pieceSize: 32768);
        Torrent torrent = Torrent.Load(torrentFile);
        Assert.Equal(mode == "v2" ? TorrentVersion.V2 : TorrentVersion.Hybrid, torrent.Version);

        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrentFile, temp.Combine("seed"), "--quiet");
        using (seeder)
        {
            var download = temp.Combine("download");
            string what = source == "torrent" ? torrentFile : torrent.ToMagnetLink() + $"&x.pe=127.0.0.1:{port}";
            using var shoal = ShoalCli.Start("get", what, "-o", download, "--peer", $"127.0.0.1:{port}",
                "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--no-port-mapping", "--exit-when-done", "--json");
            int exitCode;
            try
            {
                exitCode = await shoal.WaitForExitAsync(TimeSpan.FromSeconds(120));
            }
            finally
            {
                output.WriteLine(shoal.Transcript(20));
            }
            Assert.True(exitCode == 0, "shoal get failed\n" + shoal.Transcript() + "\n" + seeder.Transcript(20));
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
        }
    }

    [InteropTheory]
    [InlineData("--v2", "torrent")]
    [InlineData("--v2", "magnet")]
    [InlineData("--hybrid", "torrent")]
    [InlineData("--hybrid", "magnet")]
    public async Task LibtorrentDownloadsFromShoalSeeder(string mode, string source)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 53);
        var torrentFile = temp.Combine("payload.torrent");
        InteropAssert.Succeeded(await ShoalCli.RunAsync(TimeSpan.FromSeconds(120), "create", content, "-o", torrentFile, mode, "--piece-size", "32768"));
        Torrent torrent = Torrent.Load(torrentFile);

        var port = LoopbackPort.FreePort();
        using var shoal = ShoalCli.Start("share", content, "--torrent", torrentFile, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--no-port-mapping", "--quiet");
        try
        {
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), shoal), "shoal share never listened\n" + shoal.Transcript());
            var download = temp.Combine("download");
            string[] what = source == "torrent" ? ["--torrent", torrentFile] : ["--magnet", torrent.ToMagnetLink().ToString()];
            var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", [.. what,
                "--save-path", download, "--peer", $"127.0.0.1:{port}", "--timeout", "120", "--recheck", "--quiet"]);
            output.WriteLine(get.Transcript);
            Assert.True(get.ExitCode == 0, "libtorrent could not download from shoal\n" + get.Transcript + "\n" + shoal.Transcript());
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            shoal.Interrupt();
            InteropAssert.CleanStop(await shoal.WaitForExitAsync(TimeSpan.FromSeconds(30)), shoal.Transcript());
        }
        finally
        {
            output.WriteLine(shoal.Transcript(20));
        }
    }
}
