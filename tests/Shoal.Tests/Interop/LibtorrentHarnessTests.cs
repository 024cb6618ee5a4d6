using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// libtorrent seeding to libtorrent with the same scripts the Shoal tests use: proves the harness and the
/// client installation, so a Shoal interop failure is Shoal's and not the harness's.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class LibtorrentHarnessTests(ITestOutputHelper output)
{
    [InteropFact]
    public async Task LibtorrentSeedsLibtorrentOverLoopback()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        output.WriteLine($"libtorrent {InteropEnvironment.Current.LibtorrentVersion} via {InteropEnvironment.Current.PythonPath}");
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, 4 << 20, seed: 11);
        var torrent = temp.Combine("payload.torrent");
        var hash = await LibtorrentScripts.MakeTorrentAsync(content, torrent, pieceSize: 32768);
        Assert.Matches("^[0-9a-f]{40}$", hash);

        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--quiet");
        using (seeder)
        {
            var download = temp.Combine("download");
            var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py",
                "--torrent", torrent, "--save-path", download, "--peer", $"127.0.0.1:{port}", "--timeout", "120", "--quiet");
            output.WriteLine(get.Transcript);
            InteropAssert.Succeeded(get);
            Assert.Contains(get.StandardOutput, l => l.StartsWith("DONE ", StringComparison.Ordinal));
            TestContent.AssertSameTree(content, Path.Combine(download, "payload"));

            seeder.CloseStandardInput(); // the seeder's documented way to stop
            Assert.Equal(0, await seeder.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            output.WriteLine(seeder.Transcript(5));
        }
    }

    [InteropFact]
    public async Task LibtorrentSeederRefusesIncompleteData()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        var content = temp.Combine("seed", "payload");
        TestContent.WriteMultiFileFolder(content, 1 << 20, seed: 12);
        var torrent = temp.Combine("payload.torrent");
        await LibtorrentScripts.MakeTorrentAsync(content, torrent);
        // Flip one byte: the seeder must notice on its check instead of seeding corrupt data (tests
        // rely on READY meaning "every piece verified").
        var victim = Path.Combine(content, "alpha.bin");
        var bytes = await File.ReadAllBytesAsync(victim);
        bytes[1000] ^= 0xFF;
        await File.WriteAllBytesAsync(victim, bytes);

        var ex = await Assert.ThrowsAsync<InteropException>(() => LibtorrentScripts.StartSeederAsync(torrent, temp.Combine("seed"), "--quiet"));
        output.WriteLine(ex.Message);
        Assert.Contains("incomplete", ex.Message, StringComparison.Ordinal);
    }
}
