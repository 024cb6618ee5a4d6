using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>Magnet links: the info dictionary travels over BEP 9 (ut_metadata) between Shoal and libtorrent.</summary>
[Collection(InteropCollection.Name)]
public sealed class MagnetInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// 3 MB in 32 KiB pieces has a one-piece info dictionary; 14 MB in 16 KiB pieces has 855 piece hashes
    /// (17 100 bytes), so the info dictionary spans two 16 KiB metadata pieces and the last one is short.
    /// </summary>
    [InteropTheory]
    [InlineData(3_000_000, 32768)]
    [InlineData(14_000_000, 16384)]
    public async Task ShoalFetchesMagnetFromLibtorrentSeeder(int payloadBytes, int pieceSize)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload.bin");
        TestContent.WriteRandomFile(content, payloadBytes, new Random(61));
        var torrent = temp.Combine("payload.torrent");
        var hash = await LibtorrentScripts.MakeTorrentAsync(content, torrent, pieceSize: pieceSize);
        var lt = await LibtorrentScripts.ReadTorrentAsync(torrent);
        Assert.True(payloadBytes < 10_000_000 || lt.PieceCount * 20 > 16384, $"expected an info dictionary over 16 KiB, got {lt.PieceCount} pieces");

        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--quiet");
        using (seeder)
        {
            var download = temp.Combine("download");
            using var shoal = ShoalCli.Start("get", $"magnet:?xt=urn:btih:{hash}&x.pe=127.0.0.1:{port}", "-o", download,
                "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--exit-when-done", "--json");
            int exitCode;
            try
            {
                exitCode = await shoal.WaitForExitAsync(TimeSpan.FromSeconds(90));
            }
            finally
            {
                output.WriteLine(shoal.Transcript(10));
            }
            Assert.True(exitCode == 0, "shoal get (magnet) failed\n" + shoal.Transcript() + "\n" + seeder.Transcript(20));
            InteropAssert.JsonStatusLines(shoal.StandardOutputLines, shoal.Transcript());
            TestContent.AssertSameTree(content, Path.Combine(download, "payload.bin"));
        }
    }

    [InteropFact]
    public async Task LibtorrentFetchesMagnetFromShoalSeeder()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, 14L << 20, seed: 62);
        var torrent = temp.Combine("payload.torrent");
        // 16 KiB pieces: the info dictionary spans several metadata pieces here too.
        var create = await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent, "--piece-size", "16384");
        InteropAssert.Succeeded(create);
        var magnet = InteropAssert.MagnetLink(create.Output);
        Assert.NotNull(magnet);
        var lt = await LibtorrentScripts.ReadTorrentAsync(torrent);
        Assert.True(lt.PieceCount * 20 > 16384, $"expected an info dictionary over 16 KiB, got {lt.PieceCount} pieces");

        var port = LoopbackPort.FreePort();
        using var shoal = ShoalCli.Start("share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--quiet");
        try
        {
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, CliTimeout, shoal), "shoal share never listened\n" + shoal.Transcript());
            var download = temp.Combine("download");
            var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(100), "lt_get.py", "--magnet", magnet,
                "--save-path", download, "--peer", $"127.0.0.1:{port}", "--timeout", "90", "--quiet");
            output.WriteLine(get.Transcript);
            Assert.True(get.ExitCode == 0, "libtorrent could not fetch the magnet from shoal\n" + get.Transcript + "\n" + shoal.Transcript());
            Assert.Contains(get.StandardOutput, l => l == "METADATA " + lt.PieceCount.ToString(CultureInfo.InvariantCulture));
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
        }
        finally
        {
            output.WriteLine(shoal.Transcript(10));
        }
    }
}
