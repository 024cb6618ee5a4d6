using System.Globalization;
using System.Text.Json;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Cli;

/// <summary>`shoal get` killed with SIGKILL in the middle of a download, then started again.</summary>
public sealed class CrashResumeTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-crash-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task AKilledDownloadResumesWithWhatItHadAndEndsByteIdentical()
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] content = new byte[24 * 1024 * 1024];
        new Random(24).NextBytes(content);
        string file = Path.Combine(seedDir, "big.bin");
        await File.WriteAllBytesAsync(file, content);
        string torrent = Path.Combine(_root, "big.torrent");
        ProcessResult created = await ShoalCli.RunAsync(Patience, "create", file, "-o", torrent, "--piece-size", "256KiB");
        Assert.True(created.ExitCode == 0, created.ToString());

        int port = LoopbackPort.FreePort();
        // A slow seeder (8 MB/s) so the kill lands in the middle of the download.
        using ChildProcess seeder = ShoalCli.Start("share", file, "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--quiet", "--max-upload-rate", "8MB", "--data-dir", Path.Combine(_root, "seeder-data"));
        Assert.True(await LoopbackPort.WaitUntilListeningAsync(port, Patience, seeder), seeder.Transcript());

        string output = Path.Combine(_root, "out");
        string[] get = ["get", torrent, "-o", output, "--port", "0", "--bind", "127.0.0.1", "--peer", $"127.0.0.1:{port}",
            "--no-dht", "--no-lsd", "--exit-when-done", "--json", "--data-dir", Path.Combine(_root, "data")];
        using (ChildProcess first = ShoalCli.Start(get))
        {
            await first.WaitForLineAsync(line => Progress(line) >= 0.3, Patience, "30% downloaded");
            first.Kill(); // SIGKILL: no flush, no resume save, no goodbye
            await first.WaitForExitAsync(Patience);
        }

        using ChildProcess second = ShoalCli.Start(get);
        int exit = await second.WaitForExitAsync(Patience);
        Assert.True(exit == 0, second.Transcript());
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(output, "big.bin")));
        // It kept what it had verified: the second run fetched well under the whole file.
        long downloaded = second.StandardOutputLines.Where(l => l.StartsWith('{')).Select(Downloaded).Max();
        Assert.True(downloaded < content.Length * 85L / 100, $"the restarted download fetched {downloaded} of {content.Length} bytes");
        seeder.Interrupt();
    }

    private static double Progress(string line) => line.StartsWith('{') ? JsonDocument.Parse(line).RootElement.GetProperty("progress").GetDouble() : 0;

    private static long Downloaded(string line) => JsonDocument.Parse(line).RootElement.GetProperty("downloaded").GetInt64();
}
