using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// Magnet links with neither trackers nor peers: Shoal and libtorrent find each other only through the DHT,
/// bootstrapped from a standalone <c>shoal dht</c> node on 127.0.0.1.
/// </summary>
/// <remarks>
/// libtorrent's DHT only works on loopback with its address protections off (see lt_common.py:
/// dht_restrict_routing_ips, dht_restrict_search_ips, dht_ignore_dark_internet, dht_prefer_verified_node_ids,
/// dht_enforce_node_id), and it is told to re-announce every few seconds instead of every 15 minutes.
/// </remarks>
[Collection(InteropCollection.Name)]
public sealed class DhtInteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 4L << 20;
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);

    [InteropFact]
    public async Task ShoalFindsLibtorrentSeederThroughDht()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 71);
        var torrent = temp.Combine("payload.torrent");
        var hash = await LibtorrentScripts.MakeTorrentAsync(content, torrent);

        var (node, bootstrap) = await ShoalServers.StartDhtNodeAsync(temp.Combine("dht-node"));
        using (node)
        {
            var (seeder, _) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--dht-bootstrap", bootstrap);
            using (seeder)
            {
                var download = temp.Combine("download");
                using var shoal = ShoalCli.Start("get", $"magnet:?xt=urn:btih:{hash}", "-o", download, "--dht-bootstrap", bootstrap,
                    "--no-lsd", "--bind", "127.0.0.1", "--port", "0", "--exit-when-done", "--json",
                    // Capped so the download spans several once-a-second status lines: uncapped, 4 MiB could finish
                    // between two of them, and the last line comes after both seeds dropped each other ("dht":0).
                    "--max-download-rate", "1048576");
                int exitCode;
                try
                {
                    exitCode = await shoal.WaitForExitAsync(TimeSpan.FromSeconds(100));
                }
                finally
                {
                    output.WriteLine(shoal.Transcript(10));
                    output.WriteLine(node.Transcript(10));
                }
                Assert.True(exitCode == 0, "shoal get (DHT magnet) failed\n" + shoal.Transcript() + "\n" + seeder.Transcript(20) + "\n" + node.Transcript(20));
                InteropAssert.JsonStatusLines(shoal.StandardOutputLines, shoal.Transcript());
                Assert.Contains(shoal.StandardOutputLines, l => l.Contains("\"dht\":1", StringComparison.Ordinal));
                TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            }
        }
    }

    [InteropFact]
    public async Task LibtorrentFindsShoalSeederThroughDht()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 72);
        var torrent = temp.Combine("payload.torrent");
        var create = await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent);
        InteropAssert.Succeeded(create);
        var hash = (await LibtorrentScripts.ReadTorrentAsync(torrent)).V1!;

        var (node, bootstrap) = await ShoalServers.StartDhtNodeAsync(temp.Combine("dht-node"));
        using (node)
        {
            var port = LoopbackPort.FreePort();
            using var shoal = ShoalCli.Start("share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1", "--dht-bootstrap", bootstrap, "--no-lsd", "--quiet");
            try
            {
                Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, CliTimeout, shoal), "shoal share never listened\n" + shoal.Transcript());
                var download = temp.Combine("download");
                var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(110), "lt_get.py", "--magnet", $"magnet:?xt=urn:btih:{hash}",
                    "--save-path", download, "--no-peer", "--dht-bootstrap", bootstrap, "--timeout", "100", "--quiet");
                output.WriteLine(get.Transcript);
                Assert.True(get.ExitCode == 0, "libtorrent could not find shoal through the DHT\n" + get.Transcript + "\n" + shoal.Transcript() + "\n" + node.Transcript(20));
                TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            }
            finally
            {
                output.WriteLine(shoal.Transcript(10));
                output.WriteLine(node.Transcript(10));
            }
        }
    }
}
