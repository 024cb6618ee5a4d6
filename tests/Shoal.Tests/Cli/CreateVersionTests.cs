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

    [Fact]
    public async Task Getting_a_v2_only_torrent_says_so_in_one_line()
    {
        string content = Path.Combine(_folder, "v2.bin");
        await File.WriteAllBytesAsync(content, new byte[40_000]);
        string torrent = Path.Combine(_folder, "v2.torrent");
        Assert.Equal(0, (await RunAsync("create", content, "-o", torrent, "--v2")).Code);
        (int code, _, string stderr) = await RunAsync("get", torrent, "-o", Path.Combine(_folder, "out"), "--port", "0",
            "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--exit-when-done", "--quiet");
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("v2-only", line, StringComparison.Ordinal);
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
