using Shoal.Cli;
using Shoal.Metainfo;

namespace Shoal.Tests.Cli;

/// <summary><c>shoal create --v2 / --hybrid</c>: what they write and print.</summary>
public sealed class CreateVersionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("shoal-create-version-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData(null, TorrentVersion.V1)]
    [InlineData("--v2", TorrentVersion.V2)]
    [InlineData("--hybrid", TorrentVersion.Hybrid)]
    public async Task Create_writes_the_asked_version_and_prints_its_info_hashes(string? flag, TorrentVersion version)
    {
        string content = Path.Combine(_folder, "data.bin");
        await File.WriteAllBytesAsync(content, new byte[70_000]);
        string output = Path.Combine(_folder, "out.torrent");
        string[] args = flag is null ? ["create", content, "-o", output] : ["create", content, "-o", output, flag];
        (int code, string stdout, string stderr) = await RunAsync(args);
        Assert.True(code == 0, stderr);
        Torrent t = Torrent.Load(output);
        Assert.Equal(version, t.Version);
        Assert.Equal(t.HasV1, stdout.Contains("info-hash: " + t.InfoHashV1?.ToHex(), StringComparison.Ordinal));
        Assert.Equal(t.HasV2, stdout.Contains("info-hash v2: " + t.InfoHashV2?.ToHex(), StringComparison.Ordinal));
        Assert.Contains("magnet: " + t.ToMagnetLink(), stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--v2")]
    [InlineData("--hybrid")]
    public async Task Getting_a_v2_or_hybrid_torrent_whose_data_is_here_verifies_it_and_finishes(string flag)
    {
        // Shoal used to refuse v2-only torrents here ("v2-only ... for now"); now the check verifies the data against
        // the merkle trees and the download is complete at once, without a peer.
        string content = Path.Combine(_folder, "v2.bin");
        var data = new byte[300_000];
        new Random(18).NextBytes(data);
        await File.WriteAllBytesAsync(content, data);
        string torrent = Path.Combine(_folder, "v2.torrent");
        Assert.Equal(0, (await RunAsync("create", content, "-o", torrent, flag)).Code);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(["get", torrent, "-o", _folder, "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd",
            "--no-port-mapping", "--exit-when-done", "--quiet"], stdout, stderr, timeout.Token);
        Assert.True(code == 0, stderr.ToString());
        Assert.Equal(data, await File.ReadAllBytesAsync(content));
    }

    [Fact]
    public async Task V2_and_hybrid_together_are_a_usage_error()
    {
        string content = Path.Combine(_folder, "x.bin");
        await File.WriteAllBytesAsync(content, [1, 2, 3]);
        (int code, _, string stderr) = await RunAsync("create", content, "--v2", "--hybrid");
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--v2 and --hybrid", line, StringComparison.Ordinal);
    }
}
