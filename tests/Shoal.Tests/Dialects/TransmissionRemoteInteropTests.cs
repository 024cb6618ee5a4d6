using System.Text.Json;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;
using Xunit.Abstractions;

namespace Shoal.Tests.Dialects;

/// <summary>
/// The real <c>transmission-remote</c> (Transmission 3.00, Debian's transmission-cli) drives <c>shoal daemon</c> run as
/// users run it (a child process): a torrent from a libtorrent seeder is added, listed, stopped, started, verified
/// after a byte of its data is spoiled (the piece is fetched again), limited and removed with its data; the shoal CLI
/// sees every change, as both talk to the same daemon.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class TransmissionRemoteInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(2);

    [InteropFact(InteropClients.Libtorrent | InteropClients.Transmission)]
    public async Task Transmission_remote_adds_lists_stops_starts_verifies_limits_and_removes_with_data()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent | InteropClients.Transmission);
        using var temp = new TempFolder("shoal-tr-remote");
        string seeds = temp.Combine("seeds");
        string downloads = temp.Combine("downloads");
        string content = Path.Combine(seeds, "film.mkv");
        TestContent.WriteRandomFile(content, 3 << 20, new Random(1601));

        (ChildProcess tracker, _, string udpUrl) = await ShoalServers.StartTrackerAsync();
        using (tracker)
        {
            string torrent = temp.Combine("film.torrent");
            string hash = (await RunAsync(TimeSpan.FromSeconds(120), InteropEnvironment.Current.PythonPath!,
                [Path.Combine(InteropEnvironment.Current.ScriptsDirectory, "lt_make.py"), content, "-o", torrent, "--piece-size", "65536", "--tracker", udpUrl])).StandardOutput[^1].Trim();
            (ChildProcess seeder, _) = await LibtorrentScripts.StartSeederAsync(torrent, seeds, "--quiet");
            using (seeder)
            using (DaemonProcess daemon = await DaemonProcess.StartAsync(temp.Combine("data"), downloads))
            {
                string host = $"{daemon.Address.Host}:{daemon.Address.Port}";
                try
                {
                    // Version and folder as transmission-remote reads them from session-get.
                    string session = (await RemoteAsync(host, "-si")).Output;
                    Assert.Contains("Daemon version: 4.1.0 (Shoal ", session);
                    Assert.Contains("RPC version: 18", session);
                    Assert.Contains("Download directory: " + downloads, session);

                    // Add the .torrent file (sent as base64 metainfo): the daemon finds the seeder through the tracker.
                    Assert.Contains("responded: \"success\"", (await RemoteAsync(host, "-a", torrent)).Output);
                    await WaitForInfoAsync(host, hash, i => i["Percent Done"] == "100%", "the download to complete");
                    TestContent.AssertSameTree(content, Path.Combine(downloads, "film.mkv"));
                    string list = (await RemoteAsync(host, "-l")).Output;
                    Assert.Contains(list.Split('\n'), l => l.Contains("film.mkv", StringComparison.Ordinal) && l.Contains("100%", StringComparison.Ordinal));
                    Assert.Equal("seeding", State(await daemon.ListAsync(), hash));
                    Dictionary<string, string> info = await InfoAsync(host, hash);
                    Assert.Equal(hash, info["Hash"]);
                    Assert.Equal(downloads, info["Location"]);

                    // Stop: the CLI sees it paused.
                    await RemoteAsync(host, "-t", hash, "-S");
                    await WaitForInfoAsync(host, hash, i => i["State"] == "Stopped", "Stopped");
                    Assert.Equal("paused", State(await daemon.ListAsync(), hash));

                    // Start: seeding again, nothing downloaded again.
                    long downloaded = (await daemon.ListAsync())[hash].GetProperty("downloaded").GetInt64();
                    await RemoteAsync(host, "-t", hash, "-s");
                    await WaitForInfoAsync(host, hash, i => i["State"] != "Stopped", "started");
                    Assert.Equal("seeding", State(await daemon.ListAsync(), hash));

                    // A byte of the data spoiled behind the daemon's back: verify finds the piece bad and it is fetched
                    // again from the seeder (64 KiB more downloaded), the file whole again.
                    await using (var file = new FileStream(Path.Combine(downloads, "film.mkv"), FileMode.Open, FileAccess.ReadWrite))
                    {
                        file.Position = (1 << 20) + 12345;
                        int old = file.ReadByte();
                        file.Position--;
                        file.WriteByte((byte)(old ^ 0xFF));
                    }
                    await RemoteAsync(host, "-t", hash, "-v");
                    await daemon.WaitForAsync(hash, r => r.GetProperty("downloaded").GetInt64() >= downloaded + 65536 && r.GetProperty("state").GetString() == "seeding",
                        "the spoiled piece fetched again");
                    await WaitForInfoAsync(host, hash, i => i["Percent Done"] == "100%", "100% again");
                    TestContent.AssertSameTree(content, Path.Combine(downloads, "film.mkv"));

                    // Limits (transmission-remote speaks kB/s, 1000 bytes) and a seed ratio: the daemon keeps them.
                    await RemoteAsync(host, "-t", hash, "-d", "100", "-u", "50", "-sr", "1.5");
                    info = await InfoAsync(host, hash);
                    Assert.Equal("100 kB/s", info["Download Limit"]);
                    Assert.Equal("50 kB/s", info["Upload Limit"]);
                    Assert.Equal("1.5", info["Ratio Limit"]);
                    JsonElement row = (await daemon.ListAsync())[hash];
                    Assert.Equal(100_000, row.GetProperty("download_limit").GetInt64());
                    Assert.Equal(50_000, row.GetProperty("upload_limit").GetInt64());
                    await RemoteAsync(host, "-t", hash, "-D", "-U");
                    row = (await daemon.ListAsync())[hash];
                    Assert.Equal(0, row.GetProperty("download_limit").GetInt64());

                    // Remove with its data: gone from both lists and from the disk; the download folder stays.
                    await RemoteAsync(host, "-t", hash, "--remove-and-delete");
                    await Eventually.TrueAsync(() => !daemon.ListAsync().GetAwaiter().GetResult().ContainsKey(hash), Wait, "still listed by the CLI");
                    Assert.DoesNotContain("film.mkv", (await RemoteAsync(host, "-l")).Output);
                    await Eventually.TrueAsync(() => !File.Exists(Path.Combine(downloads, "film.mkv")), Wait, "the data was not deleted");
                    Assert.True(Directory.Exists(downloads));
                    Assert.True(File.Exists(content)); // the seeder's copy, outside the daemon's folders, untouched
                }
                catch
                {
                    output.WriteLine(daemon.Process.Transcript(80));
                    output.WriteLine(seeder.Transcript(20));
                    throw;
                }
            }
        }
    }

    [InteropFact(InteropClients.Transmission)]
    public async Task Transmission_remote_logs_in_with_the_daemon_password_and_is_refused_without_it()
    {
        InteropEnvironment.Current.Require(InteropClients.Transmission);
        using var temp = new TempFolder("shoal-tr-remote-auth");
        await using TestDaemon daemon = await TestDaemon.StartAsync(temp, o => o with { Password = "open sesame" });
        string host = $"{daemon.Address.Host}:{daemon.Address.Port}";

        ProcessResult refused = await RunAsync(Wait, InteropEnvironment.Current.TransmissionRemotePath!, [host, "-l"]);
        Assert.True(refused.ExitCode != 0, refused.Transcript);
        Assert.Contains("401", refused.Output + string.Join('\n', refused.StandardError));

        ProcessResult listed = await RunAsync(Wait, InteropEnvironment.Current.TransmissionRemotePath!, [host, "-n", "sonarr:open sesame", "-l"]);
        Assert.True(listed.ExitCode == 0, listed.Transcript);
        Assert.Contains("Sum:", listed.Output);
    }

    private async Task<ProcessResult> RemoteAsync(string host, params string[] arguments)
    {
        ProcessResult result = await RunAsync(Wait, InteropEnvironment.Current.TransmissionRemotePath!, [host, .. arguments]);
        Assert.True(result.ExitCode == 0, result.Transcript);
        Assert.DoesNotContain(result.StandardError, l => l.Contains("Error", StringComparison.OrdinalIgnoreCase));
        return result;
    }

    private async Task<ProcessResult> RunAsync(TimeSpan timeout, string program, string[] arguments)
    {
        ProcessResult result = await ChildProcess.RunAsync(program, arguments, timeout);
        output.WriteLine(result.Transcript);
        return result;
    }

    /// <summary>The "Key: value" lines of <c>transmission-remote -t HASH -i</c>.</summary>
    private async Task<Dictionary<string, string>> InfoAsync(string host, string hash)
    {
        ProcessResult result = await ChildProcess.RunAsync(InteropEnvironment.Current.TransmissionRemotePath!, [host, "-t", hash, "-i"], Wait);
        Assert.True(result.ExitCode == 0, result.Transcript);
        var info = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in result.StandardOutput)
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (line.StartsWith("  ", StringComparison.Ordinal) && colon > 0) info.TryAdd(line[..colon].Trim(), line[(colon + 2)..].Trim());
        }
        return info;
    }

    private async Task<Dictionary<string, string>> WaitForInfoAsync(string host, string hash, Func<Dictionary<string, string>, bool> condition, string what)
    {
        Dictionary<string, string> info = [];
        DateTime deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            info = await InfoAsync(host, hash);
            if (condition(info)) return info;
            if (DateTime.UtcNow > deadline) Assert.Fail($"waited for {what}: {string.Join(", ", info.Select(p => p.Key + "=" + p.Value))}");
            await Task.Delay(250);
        }
    }

    private static string State(Dictionary<string, JsonElement> rows, string hash) => rows[hash].GetProperty("state").GetString()!;
}
