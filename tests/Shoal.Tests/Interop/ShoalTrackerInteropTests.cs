using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// <c>shoal tracker</c> as the swarm's only tracker: peers find each other through its HTTP or UDP announce,
/// with a Shoal seeder and libtorrent or Transmission on the other side.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class ShoalTrackerInteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 6L << 20;
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);

    [InteropTheory]
    [InlineData("http")]
    [InlineData("udp")]
    public async Task LibtorrentFindsShoalSeederThroughShoalTracker(string protocol)
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 51);
        var (tracker, httpUrl, udpUrl) = await ShoalServers.StartTrackerAsync();
        using (tracker)
        {
            var torrent = temp.Combine("payload.torrent");
            InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent,
                "--tracker", protocol == "http" ? httpUrl : udpUrl));

            var port = LoopbackPort.FreePort();
            using var shoal = ShoalCli.Start("share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--quiet");
            try
            {
                Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, CliTimeout, shoal), "shoal share never listened\n" + shoal.Transcript());

                // No --peer: libtorrent only learns the seeder from the Shoal tracker.
                var download = temp.Combine("download");
                var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(100), "lt_get.py", "--torrent", torrent,
                    "--save-path", download, "--no-peer", "--timeout", "90", "--quiet");
                output.WriteLine(get.Transcript);
                Assert.True(get.ExitCode == 0, "libtorrent did not download through the Shoal tracker\n" + get.Transcript + "\n" +
                    shoal.Transcript() + "\n" + tracker.Transcript());
                Assert.Contains(get.StandardOutput, l => l.StartsWith("ALERT tracker_reply", StringComparison.Ordinal));
                TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            }
            finally
            {
                output.WriteLine(shoal.Transcript(10));
            }
        }
    }

    /// <summary>
    /// Transmission 3.00 announces to the Shoal tracker and gets the Shoal seeder back, but drops every peer
    /// address in 127.0.0.0/8 that a tracker returns (libtransmission treats loopback as "martian": its log says
    /// "Got N peers from tracker" and it never dials them). It does accept incoming connections from loopback,
    /// so the seeder dials Transmission (--peer): the tracker part is Transmission's announce, the transfer is
    /// Transmission downloading from Shoal.
    /// </summary>
    [InteropFact(InteropClients.Transmission)]
    public async Task TransmissionDownloadsFromShoalSeederOnShoalTracker()
    {
        InteropEnvironment.Current.Require(InteropClients.Transmission);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 52);
        var (tracker, httpUrl, _) = await ShoalServers.StartTrackerAsync();
        using (tracker)
        {
            var torrent = temp.Combine("payload.torrent");
            InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent, "--tracker", httpUrl));

            var transmissionPort = LoopbackPort.FreePort();
            var download = temp.Combine("download");
            using var transmission = TransmissionCli.Start(torrent, download, temp.Combine("transmission-config"), transmissionPort);
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(transmissionPort, CliTimeout, transmission),
                "transmission-cli never listened\n" + transmission.Transcript());

            var port = LoopbackPort.FreePort();
            using var shoal = ShoalCli.Start("share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--quiet", "--peer", $"127.0.0.1:{transmissionPort}");
            try
            {
                await transmission.WaitForLineAsync(TransmissionCli.IsSeedingLine, TimeSpan.FromSeconds(90), "transmission-cli seeding");
                // Transmission verified every piece; stop it so its write cache is flushed before comparing.
                transmission.Interrupt();
                await transmission.WaitForExitAsync(TimeSpan.FromSeconds(30));
                TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            }
            finally
            {
                output.WriteLine(transmission.Transcript(15));
                output.WriteLine(shoal.Transcript(10));
            }
        }
    }

    [InteropFact(InteropClients.Transmission)]
    public async Task ShoalFindsTransmissionSeederThroughShoalTracker()
    {
        InteropEnvironment.Current.Require(InteropClients.Transmission);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 53);
        var (tracker, _, udpUrl) = await ShoalServers.StartTrackerAsync();
        using (tracker)
        {
            var torrent = temp.Combine("payload.torrent");
            InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent, "--tracker", udpUrl));

            // The data is already in Transmission's download folder: it verifies it and seeds, announcing over UDP.
            var transmissionPort = LoopbackPort.FreePort();
            using var transmission = TransmissionCli.Start(torrent, temp.Combine("seed"), temp.Combine("transmission-config"), transmissionPort);
            try
            {
                await transmission.WaitForLineAsync(TransmissionCli.IsSeedingLine, TimeSpan.FromSeconds(60), "transmission-cli seeding");

                // No --peer: Shoal only learns Transmission from the tracker.
                var download = temp.Combine("download");
                using var shoal = ShoalCli.Start("get", torrent, "-o", download, "--port", "0", "--bind", "127.0.0.1",
                    "--no-dht", "--no-lsd", "--exit-when-done", "--json");
                int exitCode;
                try
                {
                    exitCode = await shoal.WaitForExitAsync(TimeSpan.FromSeconds(90));
                }
                finally
                {
                    output.WriteLine(shoal.Transcript(10));
                }
                Assert.True(exitCode == 0, "shoal get failed\n" + shoal.Transcript() + "\n" + transmission.Transcript(20) + "\n" + tracker.Transcript());
                InteropAssert.JsonStatusLines(shoal.StandardOutputLines, shoal.Transcript());
                Assert.Contains(shoal.StandardOutputLines, l => l.Contains("\"tracker\":1", StringComparison.Ordinal));
                TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            }
            finally
            {
                output.WriteLine(transmission.Transcript(15));
            }
        }
    }
}
