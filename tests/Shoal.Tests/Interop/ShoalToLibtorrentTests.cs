using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary><c>shoal share</c> seeds; libtorrent downloads and verifies every piece.</summary>
[Collection(InteropCollection.Name)]
public sealed class ShoalToLibtorrentTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 20L << 20;

    [InteropTheory]
    [InlineData("plaintext", "libtorrent")]
    [InlineData("default", "libtorrent")] // libtorrent tries an encrypted handshake first, then falls back
    [InlineData("plaintext", "shoal")]
    public async Task LibtorrentDownloadsFromShoalSeeder(string encryption, string torrentMadeBy)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 41);
        var torrent = temp.Combine("payload.torrent");
        if (torrentMadeBy == "shoal")
        {
            var create = await ShoalCli.RunAsync(TimeSpan.FromSeconds(120), "create", content, "-o", torrent);
            InteropAssert.Succeeded(create);
        }
        else
        {
            await LibtorrentScripts.MakeTorrentAsync(content, torrent);
        }

        var port = LoopbackPort.FreePort();
        using var shoal = ShoalCli.Start("share", content, "--torrent", torrent,
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--quiet");
        try
        {
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), shoal),
                $"shoal share never accepted connections on 127.0.0.1:{port}\n{shoal.Transcript()}");

            var download = temp.Combine("download");
            var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py",
                "--torrent", torrent, "--save-path", download, "--peer", $"127.0.0.1:{port}",
                "--timeout", "120", "--encryption", encryption, "--recheck", "--quiet");
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
