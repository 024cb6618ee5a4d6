using System.Text.Json;
using Shoal.Cli;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>The CLI's client verbs against a daemon on 127.0.0.1 (in this process), and their one-line errors.</summary>
public sealed class DaemonCliTests : IAsyncLifetime
{
    private const string Password = "cli test password";
    private readonly TempFolder _folder = new("shoal-daemon-cli");
    private TestDaemon _daemon = null!;
    private string _passwordFile = "";

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(_folder, o => o with { Password = Password });
        _passwordFile = _folder.Combine("password");
        await File.WriteAllTextAsync(_passwordFile, Password + "\n");
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync([.. args, "--remote", _daemon.Address.ToString(), "--password-file", _passwordFile], stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertOneErrorLine(string stderr, string contains)
    {
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("shoal: error: ", line);
        Assert.Contains(contains, line);
    }

    [Fact]
    public async Task Add_list_show_prio_pause_limit_and_remove_through_the_cli()
    {
        (Shoal.Metainfo.Torrent torrent, _) = await TestDaemon.MakeTorrentAsync(_folder, "cli.bin", 200_000, seed: 31);
        string file = _folder.Combine("cli.torrent");
        await File.WriteAllBytesAsync(file, torrent.ToBytes());
        (int code, string stdout, string stderr) = await RunAsync("add", file, "--paused", "--category", "tests");
        Assert.True(code == 0, stderr);
        Assert.Contains("added 1: cli.bin", stdout);

        (code, stdout, stderr) = await RunAsync("list", "--json");
        Assert.True(code == 0, stderr);
        using (JsonDocument list = JsonDocument.Parse(stdout))
        {
            JsonElement row = Assert.Single(list.RootElement.EnumerateArray());
            foreach (string field in new[] { "id", "info_hash", "name", "state", "progress", "down_rate", "up_rate", "ratio" }) Assert.True(row.TryGetProperty(field, out _), field);
            Assert.Equal(torrent.InfoHash.ToHex(), row.GetProperty("info_hash").GetString());
            Assert.Equal("paused", row.GetProperty("state").GetString());
        }
        (code, stdout, _) = await RunAsync("list");
        Assert.Equal(0, code);
        Assert.Contains("cli.bin", stdout);
        Assert.Contains("paused", stdout);

        (code, stdout, stderr) = await RunAsync("prio", torrent.InfoHash.ToHex()[..6], "0", "high");
        Assert.True(code == 0, stderr);
        (code, stdout, _) = await RunAsync("show", "1");
        Assert.Equal(0, code);
        Assert.Contains(torrent.InfoHash.ToHex(), stdout);
        Assert.Contains("high", stdout);
        Assert.Contains("files (1)", stdout);

        (code, stdout, _) = await RunAsync("limit", "1", "--down", "2MiB");
        Assert.Equal(0, code);
        Assert.Contains("down 2.00 MiB/s", stdout);
        (code, stdout, _) = await RunAsync("limit", "--up", "1MiB");
        Assert.Equal(0, code);
        Assert.Contains("up 1.00 MiB/s", stdout);
        (code, stdout, _) = await RunAsync("stats");
        Assert.Equal(0, code);
        Assert.Contains("1 (0 downloading, 0 seeding, 1 paused", stdout);

        (code, _, _) = await RunAsync("resume", "all");
        Assert.Equal(0, code);
        (code, stdout, _) = await RunAsync("remove", "1");
        Assert.Equal(0, code);
        Assert.Contains("removed 1 torrent", stdout);
        (code, stdout, _) = await RunAsync("list");
        Assert.Contains("(no torrents)", stdout);
    }

    [Fact]
    public async Task Mistakes_give_one_line_and_the_right_exit_code()
    {
        (int code, _, string stderr) = await RunAsync("show", "42");
        Assert.Equal(ExitCodes.Usage, code);
        AssertOneErrorLine(stderr, "no torrent");

        (code, _, stderr) = await RunAsync("add", _folder.Combine("missing.torrent"));
        Assert.Equal(ExitCodes.Usage, code);
        AssertOneErrorLine(stderr, "no such file");

        string junk = _folder.Combine("junk.torrent");
        await File.WriteAllTextAsync(junk, "not bencode");
        (code, _, stderr) = await RunAsync("add", junk);
        Assert.Equal(ExitCodes.Usage, code);
        AssertOneErrorLine(stderr, "not a valid .torrent");

        (code, _, stderr) = await RunAsync("prio", "1", "0", "urgent");
        Assert.Equal(ExitCodes.Usage, code);
        AssertOneErrorLine(stderr, "urgent");

        string wrong = _folder.Combine("wrong");
        await File.WriteAllTextAsync(wrong, "not it at all");
        var stdout = new StringWriter();
        var err = new StringWriter();
        code = await Program.RunAsync(["list", "--remote", _daemon.Address.ToString(), "--password-file", wrong], stdout, err, CancellationToken.None);
        Assert.Equal(ExitCodes.Usage, code);
        AssertOneErrorLine(err.ToString(), "wrong password");
    }

    [Fact]
    public async Task Adding_several_torrents_is_one_request_and_one_transaction_and_a_refused_one_is_named()
    {
        var files = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            (Shoal.Metainfo.Torrent t, _) = await TestDaemon.MakeTorrentAsync(_folder, $"batch{i}.bin", 30_000, seed: 120 + i);
            string file = _folder.Combine($"batch{i}.torrent");
            await File.WriteAllBytesAsync(file, t.ToBytes());
            files.Add(file);
        }
        (int code, string stdout, string stderr) = await RunAsync("add", files[0], "--paused");
        Assert.True(code == 0, stderr);
        string magnet = "magnet:?xt=urn:btih:" + new string('a', 40) + "&dn=batch-magnet";

        // Three new files, one already there, a magnet link: the daemon commits the four new ones at once.
        long commits = _daemon.Host.Service.Store.Commits;
        (code, stdout, stderr) = await RunAsync("add", files[1], files[0], files[2], files[3], magnet, "--paused");
        Assert.Equal(1, _daemon.Host.Service.Store.Commits - commits);
        Assert.Equal(ExitCodes.Usage, code);
        foreach (string name in new[] { "batch1.bin", "batch2.bin", "batch3.bin", "batch-magnet" }) Assert.Contains(name, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(files[0] + ": ", line);
        Assert.Contains("already in the daemon", line);
        Assert.Equal(5, _daemon.Host.Service.List().Count);
    }

    [Fact]
    public async Task Without_a_daemon_the_client_says_so_in_one_line()
    {
        int port = LoopbackPort.FreePort();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(["list", "--remote", $"127.0.0.1:{port}"], stdout, stderr, CancellationToken.None);
        Assert.Equal(ExitCodes.Failure, code);
        AssertOneErrorLine(stderr.ToString(), "no daemon answers");
    }
}
