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
