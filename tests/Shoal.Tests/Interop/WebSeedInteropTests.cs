using System.Globalization;
using Shoal.Tests.WebSeeds;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// Web seeds with libtorrent: a torrent libtorrent made with a url-list downloads in <c>shoal get</c> from the web seed
/// (a real HTTP server on 127.0.0.1) alone; then libtorrent downloads the same torrent from the same web seed with
/// Shoal seeding alongside, and every copy agrees with the original.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class WebSeedInteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 6L << 20;

    [InteropTheory]
    [InlineData("v1")]
    [InlineData("hybrid")] // BEP 47 padding files: zeros, never asked of the server
    public async Task LibtorrentMadeUrlListDownloadsFromTheWebSeedAloneAndShoalSeedsAlongside(string mode)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        string content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 53);
        await using RangeHttpServer server = await RangeHttpServer.StartAsync();
        server.AddFolder("files/payload", content);
        string torrent = temp.Combine("payload.torrent");
        await LibtorrentScripts.MakeTorrentAsync(content, torrent, mode, 0, server.BaseUrl + "files/");

        // Shoal, from the web seed alone (no peer, no tracker, no DHT).
        string shoalDownload = temp.Combine("shoal");
        using (var get = ShoalCli.Start("get", torrent, "-o", shoalDownload, "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd",
                   "--no-port-mapping", "--exit-when-done", "--json"))
        {
            int exitCode;
            try
            {
                exitCode = await get.WaitForExitAsync(TimeSpan.FromSeconds(120));
            }
            finally
            {
                output.WriteLine(get.Transcript(20));
            }
            Assert.True(exitCode == 0, "shoal get from the web seed failed\n" + get.Transcript() + "\n" + server);
            InteropAssert.JsonStatusLines(get.StandardOutputLines, get.Transcript());
        }
        TestContent.AssertSameTree(content, Path.Combine(shoalDownload, "payload"));
        Assert.All(server.Log, line => Assert.Contains("bytes=", line, StringComparison.Ordinal));
        int shoalRequests = server.Requests;
        Assert.True(shoalRequests > 0);

        // libtorrent, from the same web seed with Shoal's copy seeding alongside.
        int port = LoopbackPort.FreePort();
        using var share = ShoalCli.Start("share", Path.Combine(shoalDownload, "payload"), "--torrent", torrent,
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--no-port-mapping", "--quiet");
        try
        {
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), share),
                $"shoal share never accepted connections on 127.0.0.1:{port}\n{share.Transcript()}");
            string ltDownload = temp.Combine("libtorrent");
            var lt = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent, "--save-path", ltDownload,
                "--peer", $"127.0.0.1:{port}", "--timeout", "120", "--recheck", "--quiet");
            output.WriteLine(lt.Transcript);
            Assert.True(lt.ExitCode == 0, "libtorrent could not download\n" + lt.Transcript + "\n" + share.Transcript());
            TestContent.AssertSameTree(content, Path.Combine(ltDownload, "payload"));
            TestContent.AssertSameTree(Path.Combine(shoalDownload, "payload"), Path.Combine(ltDownload, "payload"));
            output.WriteLine($"web seed requests: shoal {shoalRequests}, libtorrent {server.Requests - shoalRequests}");
            Assert.True(server.Requests > shoalRequests, "libtorrent never asked the web seed");

            share.Interrupt();
            InteropAssert.CleanStop(await share.WaitForExitAsync(TimeSpan.FromSeconds(30)), share.Transcript());
        }
        finally
        {
            output.WriteLine(share.Transcript(20));
        }
    }
}
