using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// Message stream encryption against real clients: libtorrent with forced RC4 encryption (qBittorrent's "require
/// encryption") both ways, a swarm mixing peers that require and refuse encryption, and Transmission requiring it.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class EncryptionInteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 12L << 20;
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(120);

    [InteropFact]
    public async Task LibtorrentForcingRc4SeedsToShoalRequiringEncryption()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 61);
        var torrent = temp.Combine("payload.torrent");
        await LibtorrentScripts.MakeTorrentAsync(content, torrent);

        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--encryption", "forced");
        using (seeder)
        {
            var download = temp.Combine("download");
            using var shoal = ShoalCli.Start("get", torrent, "-o", download, "--peer", $"127.0.0.1:{port}", "--port", "0",
                "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--encryption", "require", "--exit-when-done", "--json",
                "--max-download-rate", "4MiB"); // a transfer of about 3 s: libtorrent's once-a-second lines see the connection
            int exitCode;
            try
            {
                exitCode = await shoal.WaitForExitAsync(CliTimeout);
            }
            finally
            {
                output.WriteLine(shoal.Transcript(20));
                output.WriteLine(seeder.Transcript(10));
            }
            Assert.True(exitCode == 0, "shoal get failed\n" + shoal.Transcript() + "\n" + seeder.Transcript(20));
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            Assert.True(MostEncryptedPeers(shoal.StandardOutputLines) >= 1, "shoal never reported an encrypted peer\n" + shoal.Transcript());
            Assert.Contains(seeder.StandardOutputLines, l => l.StartsWith("STAT ", StringComparison.Ordinal) && l.Contains(" rc4_peers=1", StringComparison.Ordinal));
        }
    }

    [InteropFact]
    public async Task ShoalRequiringEncryptionSeedsToLibtorrentForcingRc4()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 62);
        var torrent = temp.Combine("payload.torrent");
        InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent));

        var port = LoopbackPort.FreePort();
        using var shoal = ShoalCli.Start("share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--encryption", "require", "--json",
            "--max-upload-rate", "4MiB"); // a transfer of about 3 s: libtorrent's once-a-second lines see the connection
        try
        {
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), shoal),
                $"shoal share never accepted connections on 127.0.0.1:{port}\n{shoal.Transcript()}");
            var download = temp.Combine("download");
            var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent, "--save-path", download,
                "--peer", $"127.0.0.1:{port}", "--timeout", "120", "--encryption", "forced", "--recheck");
            output.WriteLine(get.Transcript);
            Assert.True(get.ExitCode == 0, "libtorrent could not download from shoal\n" + get.Transcript + "\n" + shoal.Transcript());
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            Assert.Contains(get.StandardOutput, l => l.StartsWith("PROGRESS ", StringComparison.Ordinal) && l.Contains(" rc4_peers=1", StringComparison.Ordinal));
            Assert.True(MostEncryptedPeers(shoal.StandardOutputLines) >= 1, "shoal never reported an encrypted peer\n" + shoal.Transcript());

            shoal.Interrupt();
            InteropAssert.CleanStop(await shoal.WaitForExitAsync(TimeSpan.FromSeconds(30)), shoal.Transcript());
        }
        finally
        {
            output.WriteLine(shoal.Transcript(20));
        }
    }

    /// <summary>
    /// One Shoal seeder with the default mode; four leechers that cannot all talk to each other: libtorrent forcing
    /// RC4, libtorrent refusing encryption, Shoal requiring it and Shoal refusing it. Everyone completes.
    /// </summary>
    [InteropFact]
    public async Task SwarmOfPeersThatRequireAndRefuseEncryptionCompletes()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 63);
        var torrent = temp.Combine("payload.torrent");
        InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent));

        var port = LoopbackPort.FreePort();
        string seederPeer = $"127.0.0.1:{port}";
        using var seeder = ShoalCli.Start("share", content, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--json");
        try
        {
            Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), seeder),
                $"shoal share never accepted connections\n{seeder.Transcript()}");

            Task<ProcessResult> ltForced = LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent,
                "--save-path", temp.Combine("lt-forced"), "--peer", seederPeer, "--timeout", "120", "--encryption", "forced", "--quiet");
            Task<ProcessResult> ltDisabled = LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrent,
                "--save-path", temp.Combine("lt-disabled"), "--peer", seederPeer, "--timeout", "120", "--encryption", "disabled", "--quiet");
            Task<ProcessResult> shoalRequire = ShoalGetAsync(torrent, temp.Combine("shoal-require"), seederPeer, "require");
            Task<ProcessResult> shoalDisable = ShoalGetAsync(torrent, temp.Combine("shoal-disable"), seederPeer, "disable");
            ProcessResult[] results = await Task.WhenAll(ltForced, ltDisabled, shoalRequire, shoalDisable);
            string[] names = ["libtorrent forced", "libtorrent disabled", "shoal require", "shoal disable"];
            for (int i = 0; i < results.Length; i++)
            {
                output.WriteLine($"--- {names[i]}: exit {results[i].ExitCode}");
                Assert.True(results[i].ExitCode == 0, $"{names[i]} did not complete\n{results[i].Transcript}\n{seeder.Transcript(30)}");
            }
            foreach (string folder in new[] { "lt-forced", "lt-disabled", "shoal-require", "shoal-disable" })
                TestContent.AssertSameTree(content, Path.Combine(temp.Combine(folder), "payload"));
            Assert.True(MostEncryptedPeers(results[2].StandardOutput) >= 1, "the requiring Shoal leecher saw no encrypted peer");
            Assert.Equal(0, MostEncryptedPeers(results[3].StandardOutput));

            seeder.Interrupt();
            InteropAssert.CleanStop(await seeder.WaitForExitAsync(TimeSpan.FromSeconds(30)), seeder.Transcript());
        }
        finally
        {
            output.WriteLine(seeder.Transcript(20));
        }
    }

    [InteropFact(InteropClients.Transmission)]
    public async Task TransmissionRequiringEncryptionSeedsToShoal()
    {
        InteropEnvironment.Current.Require(InteropClients.Transmission);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, PayloadBytes, seed: 64);
        var torrent = temp.Combine("payload.torrent");
        InteropAssert.Succeeded(await ShoalCli.RunAsync(CliTimeout, "create", content, "-o", torrent));

        var transmissionPort = LoopbackPort.FreePort();
        using var transmission = TransmissionCli.Start(torrent, temp.Combine("seed"), temp.Combine("transmission-config"), transmissionPort, encryption: 2);
        try
        {
            await transmission.WaitForLineAsync(TransmissionCli.IsSeedingLine, TimeSpan.FromSeconds(60), "transmission-cli seeding");
            var download = temp.Combine("download");
            ProcessResult shoal = await ShoalGetAsync(torrent, download, $"127.0.0.1:{transmissionPort}", "require");
            output.WriteLine(shoal.Transcript);
            Assert.True(shoal.ExitCode == 0, "shoal get failed\n" + shoal.Transcript + "\n" + transmission.Transcript(20));
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));
            Assert.True(MostEncryptedPeers(shoal.StandardOutput) >= 1, "shoal never reported an encrypted peer");
        }
        finally
        {
            output.WriteLine(transmission.Transcript(15));
        }
    }

    // Capped at 4 MiB/s so the 12 MiB download spans several once-a-second status lines: uncapped it could finish
    // between two, and the last line comes after the seeds dropped each other ("encrypted_peers":0).
    private static Task<ProcessResult> ShoalGetAsync(string torrent, string download, string peer, string encryption) =>
        ShoalCli.RunAsync(CliTimeout, "get", torrent, "-o", download, "--peer", peer, "--port", "0", "--bind", "127.0.0.1",
            "--no-dht", "--no-lsd", "--encryption", encryption, "--exit-when-done", "--json", "--max-download-rate", "4194304");

    /// <summary>The highest "encrypted_peers" in shoal's --json status lines.</summary>
    private static int MostEncryptedPeers(IEnumerable<string> lines)
    {
        int most = 0;
        foreach (string line in lines)
        {
            if (!line.StartsWith('{')) continue;
            using JsonDocument document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("encrypted_peers", out JsonElement value)) most = Math.Max(most, value.GetInt32());
        }
        return most;
    }
}
