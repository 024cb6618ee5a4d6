using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// The shoal command with uTP in real swarms (issue 20): a uTP-only libtorrent seeds to Shoal and leeches from it, a
/// default libtorrent (uTP and TCP) reaches Shoal over uTP at once, Transmission with uTP on both ways, and a swarm
/// mixing uTP-only, TCP-only and both completes. Shoal's --json status says which transport carried the bytes;
/// libtorrent's lines count its uTP peers (utp_peers=).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class UtpSwarmInteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 8L << 20;
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(120);

    [InteropFact]
    public async Task UtpOnlyLibtorrentSeedsToShoal()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        (string content, string torrent) = await MakeContentAsync(temp, seed: 201, libtorrentCreates: true);
        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--transport", "utp");
        using (seeder)
        {
            // A transfer of about 3 s: libtorrent's once-a-second lines see the connection.
            ProcessResult shoal = await ShoalGetAsync(torrent, temp.Combine("download"), $"127.0.0.1:{port}", "--max-download-rate", "3MiB");
            output.WriteLine(shoal.Transcript);
            output.WriteLine(seeder.Transcript(10));
            Assert.True(shoal.ExitCode == 0, "shoal get failed\n" + shoal.Transcript + "\n" + seeder.Transcript(20));
            TestContent.AssertSameTree(content, Path.Combine(temp.Combine("download"), "payload"));
            Assert.True(Most(shoal.StandardOutput, "utp_downloaded") >= PayloadBytes, "shoal did not download over uTP\n" + shoal.Transcript);
            Assert.Equal(0, Most(shoal.StandardOutput, "tcp_downloaded"));
            Assert.Contains(seeder.StandardOutputLines, l => l.StartsWith("STAT ", StringComparison.Ordinal) && l.Contains(" utp_peers=1", StringComparison.Ordinal));
        }
    }

    [InteropFact]
    public async Task UtpOnlyLibtorrentLeechesFromShoal()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        (string content, string torrent) = await MakeContentAsync(temp, seed: 202, libtorrentCreates: false);
        // A transfer of about 3 s: libtorrent's once-a-second lines see the connection.
        (ChildProcess shoal, int port) = await StartShoalSeederAsync(temp, content, torrent, "--max-upload-rate", "3MiB");
        using (shoal)
        {
            try
            {
                ProcessResult get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent,
                    "--save-path", temp.Combine("download"), "--peer", $"127.0.0.1:{port}", "--transport", "utp", "--timeout", "120");
                output.WriteLine(get.Transcript);
                Assert.True(get.ExitCode == 0, "libtorrent (uTP only) could not download from shoal\n" + get.Transcript + "\n" + shoal.Transcript());
                TestContent.AssertSameTree(content, Path.Combine(temp.Combine("download"), "payload"));
                Assert.Contains(get.StandardOutput, l => l.StartsWith("PROGRESS ", StringComparison.Ordinal) && l.Contains(" utp_peers=1", StringComparison.Ordinal));
                await WaitForAsync(shoal, "utp_uploaded", PayloadBytes);
                await StopAsync(shoal);
            }
            finally
            {
                output.WriteLine(shoal.Transcript(10));
            }
        }
    }

    /// <summary>
    /// libtorrent as qBittorrent runs it (uTP and TCP, uTP first): it reaches Shoal over uTP, so it did not wait out a
    /// failed uTP attempt before TCP; its first line with a peer already counts that peer as uTP.
    /// </summary>
    [InteropFact]
    public async Task DefaultLibtorrentReachesShoalOverUtpAtOnce()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        (string content, string torrent) = await MakeContentAsync(temp, seed: 203, libtorrentCreates: false);
        // A transfer of about 3 s: libtorrent's once-a-second lines see the connection.
        (ChildProcess shoal, int port) = await StartShoalSeederAsync(temp, content, torrent, "--max-upload-rate", "3MiB");
        using (shoal)
        {
            try
            {
                ProcessResult get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent,
                    "--save-path", temp.Combine("download"), "--peer", $"127.0.0.1:{port}", "--transport", "both", "--timeout", "120");
                output.WriteLine(get.Transcript);
                Assert.True(get.ExitCode == 0, "libtorrent could not download from shoal\n" + get.Transcript + "\n" + shoal.Transcript());
                TestContent.AssertSameTree(content, Path.Combine(temp.Combine("download"), "payload"));
                string? firstWithPeer = get.StandardOutput.FirstOrDefault(l => l.StartsWith("PROGRESS ", StringComparison.Ordinal) && !l.Contains(" peers=0 ", StringComparison.Ordinal));
                Assert.NotNull(firstWithPeer);
                Assert.Contains(" utp_peers=1", firstWithPeer, StringComparison.Ordinal);
                await WaitForAsync(shoal, "utp_uploaded", PayloadBytes);
                await StopAsync(shoal);
                Assert.Equal(0, Most(shoal.StandardOutputLines, "tcp_uploaded"));
            }
            finally
            {
                output.WriteLine(shoal.Transcript(10));
            }
        }
    }

    /// <summary>
    /// A Shoal seeder (uTP and TCP); leechers that cannot all talk to each other the same way: libtorrent uTP only,
    /// libtorrent TCP only, Shoal --utp-only, Shoal --no-utp. Everyone completes, and the seeder served both transports.
    /// </summary>
    [InteropFact]
    public async Task SwarmMixingUtpOnlyTcpOnlyAndBothCompletes()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        (string content, string torrent) = await MakeContentAsync(temp, seed: 204, libtorrentCreates: false);
        (ChildProcess seeder, int port) = await StartShoalSeederAsync(temp, content, torrent);
        using (seeder)
        {
            try
            {
                string seederPeer = $"127.0.0.1:{port}";
                Task<ProcessResult> ltUtp = LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent,
                    "--save-path", temp.Combine("lt-utp"), "--peer", seederPeer, "--transport", "utp", "--timeout", "120", "--quiet");
                Task<ProcessResult> ltTcp = LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent,
                    "--save-path", temp.Combine("lt-tcp"), "--peer", seederPeer, "--transport", "tcp", "--timeout", "120", "--quiet");
                Task<ProcessResult> shoalUtp = ShoalGetAsync(torrent, temp.Combine("shoal-utp"), seederPeer, "--utp-only");
                Task<ProcessResult> shoalTcp = ShoalGetAsync(torrent, temp.Combine("shoal-tcp"), seederPeer, "--no-utp");
                ProcessResult[] results = await Task.WhenAll(ltUtp, ltTcp, shoalUtp, shoalTcp);
                string[] names = ["libtorrent utp", "libtorrent tcp", "shoal utp-only", "shoal no-utp"];
                for (int i = 0; i < results.Length; i++)
                {
                    output.WriteLine($"--- {names[i]}: exit {results[i].ExitCode}");
                    Assert.True(results[i].ExitCode == 0, $"{names[i]} did not complete\n{results[i].Transcript}\n{seeder.Transcript(30)}");
                }
                foreach (string folder in new[] { "lt-utp", "lt-tcp", "shoal-utp", "shoal-tcp" })
                    TestContent.AssertSameTree(content, Path.Combine(temp.Combine(folder), "payload"));
                Assert.True(Most(results[2].StandardOutput, "utp_downloaded") >= PayloadBytes, "shoal --utp-only did not download over uTP");
                Assert.Equal(0, Most(results[2].StandardOutput, "tcp_downloaded"));
                Assert.True(Most(results[3].StandardOutput, "tcp_downloaded") >= PayloadBytes, "shoal --no-utp did not download over TCP");
                Assert.Equal(0, Most(results[3].StandardOutput, "utp_downloaded"));
                await WaitForAsync(seeder, "utp_uploaded", 1);
                await WaitForAsync(seeder, "tcp_uploaded", 1);
                await StopAsync(seeder);
            }
            finally
            {
                output.WriteLine(seeder.Transcript(10));
            }
        }
    }

    [InteropFact(InteropClients.Transmission)]
    public async Task TransmissionWithUtpSeedsToShoalOverUtp()
    {
        InteropEnvironment.Current.Require(InteropClients.Transmission);
        using var temp = new TempFolder();
        (string content, string torrent) = await MakeContentAsync(temp, seed: 205, libtorrentCreates: false);
        int transmissionPort = LoopbackPort.FreePort();
        using var transmission = TransmissionCli.Start(torrent, temp.Combine("seed"), temp.Combine("transmission-config"), transmissionPort, utp: true);
        try
        {
            await transmission.WaitForLineAsync(TransmissionCli.IsSeedingLine, TimeSpan.FromSeconds(60), "transmission-cli seeding");
            ProcessResult shoal = await ShoalGetAsync(torrent, temp.Combine("download"), $"127.0.0.1:{transmissionPort}");
            output.WriteLine(shoal.Transcript);
            Assert.True(shoal.ExitCode == 0, "shoal get failed\n" + shoal.Transcript + "\n" + transmission.Transcript(20));
            TestContent.AssertSameTree(content, Path.Combine(temp.Combine("download"), "payload"));
            Assert.True(Most(shoal.StandardOutput, "utp_downloaded") >= PayloadBytes, "shoal did not download over uTP\n" + shoal.Transcript);
        }
        finally
        {
            output.WriteLine(transmission.Transcript(15));
        }
    }

    /// <summary>Transmission drops loopback peers a tracker gives it, but accepts them incoming: Shoal dials it (uTP first).</summary>
    [InteropFact(InteropClients.Transmission)]
    public async Task ShoalSeedsToTransmissionOverUtp()
    {
        InteropEnvironment.Current.Require(InteropClients.Transmission);
        using var temp = new TempFolder();
        (string content, string torrent) = await MakeContentAsync(temp, seed: 206, libtorrentCreates: false);
        int transmissionPort = LoopbackPort.FreePort();
        string download = temp.Combine("download");
        using var transmission = TransmissionCli.Start(torrent, download, temp.Combine("transmission-config"), transmissionPort, utp: true);
        Assert.True(await LoopbackPort.WaitUntilListeningAsync(transmissionPort, CliTimeout, transmission), "transmission-cli never listened\n" + transmission.Transcript());
        (ChildProcess shoal, _) = await StartShoalSeederAsync(temp, content, torrent, "--peer", $"127.0.0.1:{transmissionPort}");
        using (shoal)
        {
            try
            {
                await transmission.WaitForLineAsync(TransmissionCli.IsSeedingLine, TimeSpan.FromSeconds(90), "transmission-cli seeding");
                transmission.Interrupt();
                await transmission.WaitForExitAsync(TimeSpan.FromSeconds(30));
                TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
                await WaitForAsync(shoal, "utp_uploaded", PayloadBytes);
                await StopAsync(shoal);
            }
            finally
            {
                output.WriteLine(transmission.Transcript(15));
                output.WriteLine(shoal.Transcript(10));
            }
        }
    }

    private static async Task<(string Content, string Torrent)> MakeContentAsync(TempFolder temp, int seed, bool libtorrentCreates)
    {
        string content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed);
        string torrent = temp.Combine("payload.torrent");
        if (libtorrentCreates) await LibtorrentScripts.MakeTorrentAsync(content, torrent);
        else InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent));
        return (content, torrent);
    }

    private static async Task<(ChildProcess Shoal, int Port)> StartShoalSeederAsync(TempFolder temp, string content, string torrent, params string[] more)
    {
        int port = LoopbackPort.FreePort();
        ChildProcess shoal = ShoalCli.Start([.. new[] { "share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--json", "--data-dir", temp.Combine("shoal-seeder-data") }, .. more]);
        if (!await LoopbackPort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), shoal))
        {
            string transcript = shoal.Transcript();
            shoal.Dispose();
            Assert.Fail($"shoal share never accepted connections on 127.0.0.1:{port}\n{transcript}");
        }
        return (shoal, port);
    }

    /// <summary>
    /// Waits until shoal's status lines show <paramref name="counter"/> at <paramref name="least"/> (the status is a
    /// snapshot of the last tick: the bytes of a peer that just finished show up a moment later).
    /// </summary>
    private static async Task WaitForAsync(ChildProcess shoal, string counter, long least)
    {
        await Eventually.TrueAsync(() => Most(shoal.StandardOutputLines, counter) >= least, TimeSpan.FromSeconds(15),
            () => $"shoal's status never showed {counter} >= {least}\n{shoal.Transcript(5)}");
    }

    private static async Task StopAsync(ChildProcess shoal)
    {
        shoal.Interrupt();
        InteropAssert.CleanStop(await shoal.WaitForExitAsync(TimeSpan.FromSeconds(30)), shoal.Transcript());
    }

    private static Task<ProcessResult> ShoalGetAsync(string torrent, string download, string peer, params string[] more) =>
        ShoalCli.RunAsync(CliTimeout, [.. new[] { "get", torrent, "-o", download, "--peer", peer, "--port", "0", "--bind", "127.0.0.1",
            "--no-dht", "--no-lsd", "--exit-when-done", "--json", "--data-dir", download + "-data" }, .. more]);

    /// <summary>The highest value of one "transports" counter in shoal's --json status lines.</summary>
    private static long Most(IEnumerable<string> lines, string counter)
    {
        long most = 0;
        foreach (string line in lines)
        {
            if (!line.StartsWith('{')) continue;
            using JsonDocument document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("transports", out JsonElement transports) && transports.TryGetProperty(counter, out JsonElement value))
                most = Math.Max(most, value.GetInt64());
        }
        return most;
    }
}
