using System.Text.Json;
using Shoal.Tests.Interop;
using Xunit.Abstractions;

namespace Shoal.Tests.Daemon;

/// <summary>
/// <c>shoal daemon</c> as users run it: a child process driven by the CLI's client verbs, fed by libtorrent
/// seeders on 127.0.0.1, killed with SIGKILL and started again.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class DaemonProcessTests(ITestOutputHelper output)
{
    private static string State(JsonElement row) => row.GetProperty("state").GetString()!;

    private static double Progress(JsonElement row) => row.GetProperty("progress").GetDouble();

    [Fact]
    public async Task A_busy_web_port_is_one_line_and_a_non_zero_exit_never_a_stack_trace()
    {
        using var temp = new TempFolder("shoal-daemon-busy");
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        int port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
        ProcessResult result = await ShoalCli.RunAsync(TimeSpan.FromSeconds(60), "daemon", "--data-dir", temp.Combine("data"),
            "-o", temp.Combine("downloads"), "--port", "0", "--bind", "127.0.0.1", "--web-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--no-dht", "--no-lsd");
        output.WriteLine(result.Transcript);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(result.StandardError, l => l.StartsWith("shoal: error:", StringComparison.Ordinal) && l.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.DoesNotContain(result.StandardError.Concat(result.StandardOutput), l => l.Contains("   at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
    }

    [InteropFact]
    public async Task After_SIGKILL_the_daemon_comes_back_with_its_torrents_their_states_and_their_data()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder("shoal-daemon-kill");
        string seeds = temp.Combine("seeds");
        string downloads = temp.Combine("downloads");
        string data = temp.Combine("data");

        // A: downloaded, then paused. C: downloaded and seeding at the kill. B: half downloaded at the kill.
        (string hashA, string contentA, ChildProcess seederA, int portA) = await SeedAsync(temp, seeds, "a.bin", 4 << 20, 71);
        (string hashC, string contentC, ChildProcess seederC, int portC) = await SeedAsync(temp, seeds, "c.bin", 2 << 20, 73);
        string contentB = Path.Combine(seeds, "b.bin");
        TestContent.WriteRandomFile(contentB, 24 << 20, new Random(72));
        string torrentB = temp.Combine("b.torrent");
        string hashB = await LibtorrentScripts.MakeTorrentAsync(contentB, torrentB, pieceSize: 65536);
        int portB = LoopbackPort.FreePort();
        long doneB;
        using (seederA)
        using (seederC)
        {
            using DaemonProcess first = await DaemonProcess.StartAsync(data, downloads);
            ChildProcess seederB = await StartSeederBAsync(torrentB, seeds, portB);
            try
            {
                await first.CliAsync(["add", Magnet(hashA, portA), Magnet(hashC, portC)]);
                await first.WaitForAsync(hashA, r => State(r) == "seeding", "a.bin downloaded");
                await first.WaitForAsync(hashC, r => State(r) == "seeding", "c.bin downloaded");
                await first.CliAsync(["pause", hashA[..10]]);
                await first.WaitForAsync(hashA, r => State(r) == "paused", "a.bin paused");
                await first.CliAsync(["add", Magnet(hashB, portB)]);
                await first.WaitForAsync(hashB, r => Progress(r) >= 0.2, "b.bin a fifth downloaded");
            }
            finally
            {
                // B's and C's only sources go first, so nothing they have after the restart can come from the network.
                seederB.Dispose();
                seederC.Dispose();
            }
            await Task.Delay(2000); // C's resume data is written within a second of it completing; it completed long ago
            doneB = (await first.ListAsync())[hashB].GetProperty("done_bytes").GetInt64();
            Assert.InRange(doneB, 1, (24 << 20) - 1);
            first.Process.Kill(); // SIGKILL: no chance to save anything
            Assert.NotEqual(0, await first.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            output.WriteLine(first.Process.Transcript(20));
        }

        // A finished torrent with unchanged files seeds from its resume data, without a check: a byte changed behind
        // its back (same size, same modification time) goes unnoticed, as in libtorrent and qBittorrent.
        string downloadedC = Path.Combine(downloads, "c.bin");
        DateTime writtenC = File.GetLastWriteTimeUtc(downloadedC);
        using (FileStream file = File.Open(downloadedC, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 1 << 20;
            int original = file.ReadByte();
            file.Position = 1 << 20;
            file.WriteByte((byte)(original ^ 0xFF));
        }
        File.SetLastWriteTimeUtc(downloadedC, writtenC);

        using DaemonProcess second = await DaemonProcess.StartAsync(data, downloads);
        Dictionary<string, JsonElement> rows = await second.ListAsync();
        Assert.Equal(3, rows.Count);
        Assert.Equal("paused", State(rows[hashA]));
        Assert.Equal(1.0, Progress(rows[hashA]));
        Assert.True(rows[hashA].GetProperty("downloaded").GetInt64() >= 4 << 20, "a.bin's counters were lost: " + rows[hashA]);
        TestContent.AssertSameTree(contentA, Path.Combine(downloads, "a.bin"));
        JsonElement c = await second.WaitForAsync(hashC, r => State(r) is "seeding" or "downloading", "c.bin running");
        Assert.Equal("seeding", State(c));
        Assert.Equal(1.0, Progress(c));
        await Task.Delay(2000);
        Assert.Equal("seeding", State((await second.ListAsync())[hashC]));

        // B: every piece verified before the kill is still verified (checked again, since its resume data may be old).
        JsonElement b = await second.WaitForAsync(hashB, r => State(r) == "downloading", "b.bin checked");
        Assert.True(b.GetProperty("done_bytes").GetInt64() >= doneB, $"b.bin lost verified data: {b.GetProperty("done_bytes")} < {doneB}");

        // The paused one resumes without downloading anything; B completes once its seeder is back.
        await second.CliAsync(["resume", hashA]);
        JsonElement a = await second.WaitForAsync(hashA, r => State(r) == "seeding", "a.bin seeding again");
        Assert.Equal(rows[hashA].GetProperty("downloaded").GetInt64(), a.GetProperty("downloaded").GetInt64());
        using ChildProcess seederBAgain = await StartSeederBAsync(torrentB, seeds, portB);
        await second.CliAsync(["pause", hashB]);
        await second.CliAsync(["resume", hashB]); // dial the seeder now rather than after the engine's back-off
        await second.WaitForAsync(hashB, r => State(r) == "seeding", "b.bin completed", TimeSpan.FromMinutes(3));
        TestContent.AssertSameTree(contentB, Path.Combine(downloads, "b.bin"));

        // A clean stop (SIGTERM) exits 0.
        second.Process.Terminate();
        Assert.Equal(0, await second.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        seederA.Dispose();
    }

    private static string Magnet(string hash, int port) => $"magnet:?xt=urn:btih:{hash}&x.pe=127.0.0.1:{port}";

    private static async Task<(string Hash, string Content, ChildProcess Seeder, int Port)> SeedAsync(TempFolder temp, string seeds, string name, int bytes, int seed)
    {
        string content = Path.Combine(seeds, name);
        TestContent.WriteRandomFile(content, bytes, new Random(seed));
        string torrent = temp.Combine(name + ".torrent");
        string hash = await LibtorrentScripts.MakeTorrentAsync(content, torrent, pieceSize: 32768);
        (ChildProcess seeder, int port) = await LibtorrentScripts.StartSeederAsync(torrent, seeds, "--quiet");
        return (hash, content, seeder, port);
    }

    private static async Task<ChildProcess> StartSeederBAsync(string torrent, string seeds, int port)
    {
        ChildProcess seeder = LibtorrentScripts.Start("lt_seed.py", "--torrent", torrent, "--save-path", seeds, "--port",
            port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--upload-limit", (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--timeout", "900", "--quiet");
        await seeder.WaitForLineAsync(l => l.StartsWith("READY ", StringComparison.Ordinal), TimeSpan.FromSeconds(120), "libtorrent seeder of b.bin");
        return seeder;
    }
}
