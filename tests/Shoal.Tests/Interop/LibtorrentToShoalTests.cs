using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>libtorrent seeds a torrent libtorrent made; <c>shoal get</c> downloads it.</summary>
[Collection(InteropCollection.Name)]
public sealed class LibtorrentToShoalTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 20L << 20;

    [InteropTheory]
    [InlineData("v1", "prefer")]
    [InlineData("hybrid", "prefer")] // v1+v2 with BEP 47 padding files, what libtorrent 2.0 makes by default
    // In the clear: libtorrent 2.0 closes a plain handshake for a v1-only torrent that carries BEP 52's v2 bit.
    [InlineData("v1", "disable")]
    [InlineData("hybrid", "disable")]
    public async Task ShoalDownloadsFromLibtorrentSeeder(string mode, string encryption)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 31);
        var torrent = temp.Combine("payload.torrent");
        await LibtorrentScripts.MakeTorrentAsync(content, torrent, mode);

        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--quiet");
        using (seeder)
        {
            var download = temp.Combine("download");
            using var shoal = ShoalCli.Start("get", torrent, "-o", download, "--peer", $"127.0.0.1:{port}",
                "--port", "0", "--no-port-mapping", "--exit-when-done", "--json", "--encryption", encryption);
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
            InteropAssert.JsonStatusLines(shoal.StandardOutputLines, shoal.Transcript());
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
        }
    }
}
