using Shoal.Cli;
using Shoal.Tests.Metainfo;

namespace Shoal.Tests.Cli;

/// <summary><c>shoal info</c> on the odd torrents of the corpus: what it shows, and one line when a torrent is refused.</summary>
public sealed class InfoCommandTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Info_lists_web_seeds_and_http_seeds()
    {
        (int code, string stdout, string stderr) = await RunAsync("info", TorrentCorpus.Fixture("url-list-list.torrent"));
        Assert.True(code == 0, stderr);
        Assert.Contains("web seeds:", stdout, StringComparison.Ordinal);
        Assert.Contains("  http://127.0.0.1:1/a/", stdout, StringComparison.Ordinal);
        Assert.Contains("  http://127.0.0.1:2/b/", stdout, StringComparison.Ordinal);
        Assert.Contains("  http://127.0.0.1:3/seed (BEP 17)", stdout, StringComparison.Ordinal);

        (code, stdout, _) = await RunAsync("info", TorrentCorpus.Fixture("v1-single.torrent"));
        Assert.Equal(0, code);
        Assert.Contains("web seeds:      none", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_shows_sanitised_names_never_raw_control_characters()
    {
        (int code, string stdout, _) = await RunAsync("info", TorrentCorpus.Fixture("control-characters.torrent"));
        Assert.Equal(0, code);
        Assert.Contains("ctl/a_[31mred__.txt", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001B', stdout);
    }

    [Theory]
    [InlineData("v1-single.torrent", "v1")]
    [InlineData("v2-multi.torrent", "v2 (BEP 52)")]
    [InlineData("hybrid.torrent", "hybrid (v1 + v2)")]
    public async Task Info_shows_the_version_both_info_hashes_and_each_files_pieces_root(string file, string version)
    {
        CorpusEntry entry = TorrentCorpus.Entries[file];
        var torrent = Shoal.Metainfo.Torrent.Load(TorrentCorpus.Fixture(file));
        (int code, string stdout, string stderr) = await RunAsync("info", TorrentCorpus.Fixture(file));
        Assert.True(code == 0, stderr);
        Assert.Contains("version:       " + version + "\n", stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("info-hash:     " + (entry.V1 ?? entry.V2![..40]), stdout, StringComparison.Ordinal);
        if (entry.V2 is null)
        {
            Assert.DoesNotContain("info-hash v2", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("pieces roots", stdout, StringComparison.Ordinal);
            return;
        }
        Assert.Contains("info-hash v2:  " + entry.V2, stdout, StringComparison.Ordinal);
        Assert.Contains("pieces roots:", stdout, StringComparison.Ordinal);
        foreach (var f in torrent.Files.Where(f => f.PiecesRoot is not null))
            Assert.Contains($"  {f.PiecesRoot!.Value.ToHex()}  {f.Path}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_on_a_v2_magnet_shows_both_hashes()
    {
        const string V2 = "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";
        (int code, string stdout, _) = await RunAsync("info", "magnet:?xt=urn:btmh:1220" + V2 + "&dn=x");
        Assert.Equal(0, code);
        Assert.Contains("info-hash:      " + V2[..40] + " (the v2 hash cut to 20 bytes)", stdout, StringComparison.Ordinal);
        Assert.Contains("info-hash v2:   " + V2, stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string> RefusedFiles() =>
        [.. TorrentCorpus.Entries.Values.Where(e => !e.Loads).Select(e => e.File).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(RefusedFiles))]
    public async Task A_refused_torrent_gives_one_line_and_exit_2(string file)
    {
        (int code, string stdout, string stderr) = await RunAsync("info", TorrentCorpus.Fixture(file));
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("shoal: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(TorrentCorpus.Entries[file].Error!, lines[0], StringComparison.OrdinalIgnoreCase);
    }
}
