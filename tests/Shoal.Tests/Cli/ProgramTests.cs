using Shoal.Cli;

namespace Shoal.Tests.Cli;

public sealed class ProgramTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "shoal-cli-tests-" + Guid.NewGuid().ToString("N"));

    public ProgramTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertOneErrorLine(string stderr, string? contains = null)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("shoal: error: ", lines[0]);
        if (contains is not null) Assert.Contains(contains, lines[0]);
    }

    [Theory]
    [InlineData(new[] { "bogus" }, "bogus")]
    [InlineData(new[] { "create" }, "PATH")]
    [InlineData(new[] { "info" }, null)]
    [InlineData(new[] { "info", "a.torrent", "--no-such-option" }, "--no-such-option")]
    [InlineData(new[] { "get", "a.torrent", "--max-upload-rate", "5XB" }, "5XB")]
    [InlineData(new[] { "get", "a.torrent", "--max-download-rate", "-1" }, "--max-download-rate")]
    [InlineData(new[] { "share", "x", "--peer", "nonsense" }, "nonsense")]
    [InlineData(new[] { "share", "x", "--peer", "::1:6881" }, "brackets")]
    [InlineData(new[] { "get", "a.torrent", "--port", "99999" }, "--port")]
    [InlineData(new[] { "get", "a.torrent", "--port", "abc" }, "--port")]
    [InlineData(new[] { "get", "a.torrent", "--bind", "not-an-ip" }, "--bind")]
    [InlineData(new[] { "share", "x", "--tracker", "ftp://example.org/announce" }, "--tracker")]
    [InlineData(new[] { "get", "a.torrent", "--max-connections", "0" }, "--max-connections")]
    [InlineData(new[] { "share", "x", "--upload-slots", "many" }, "--upload-slots")]
    [InlineData(new[] { "get", "a.torrent", "--os-cache", "some" }, "--os-cache")]
    [InlineData(new[] { "get", "a.torrent", "--encryption", "maybe" }, "--encryption")]
    [InlineData(new[] { "demo", "--leechers", "0" }, "--leechers")]
    [InlineData(new[] { "demo", "--size", "lots" }, "--size")]
    public async Task Parse_errors_give_one_line_and_exit_2(string[] args, string? contains)
    {
        (int code, string stdout, string stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        AssertOneErrorLine(stderr, contains);
    }

    [Fact]
    public async Task Help_prints_the_commands_and_exits_0()
    {
        (int code, string stdout, string stderr) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        foreach (string command in new[] { "create", "info", "share", "get", "demo", "tracker", "dht" }) Assert.Contains(command, stdout);
    }

    [Fact]
    public async Task Info_on_a_missing_file_gives_one_line_and_exit_2()
    {
        string missing = Path.Combine(_folder, "missing.torrent");
        (int code, string stdout, string stderr) = await RunAsync("info", missing);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        AssertOneErrorLine(stderr, missing);
    }

    [Fact]
    public async Task Info_on_a_folder_gives_one_line_and_exit_2()
    {
        (int code, _, string stderr) = await RunAsync("info", _folder);
        Assert.Equal(2, code);
        AssertOneErrorLine(stderr, "folder");
    }

    [Fact]
    public async Task Get_with_a_missing_torrent_gives_one_line_and_exit_2()
    {
        (int code, _, string stderr) = await RunAsync("get", Path.Combine(_folder, "nope.torrent"), "--port", "0");
        Assert.Equal(2, code);
        AssertOneErrorLine(stderr, "no such file");
    }

    [Theory]
    [InlineData("share")]
    [InlineData("create")]
    public async Task Missing_content_path_gives_one_line_and_exit_2(string command)
    {
        (int code, _, string stderr) = await RunAsync(command, Path.Combine(_folder, "no-such-content"));
        Assert.Equal(2, code);
        AssertOneErrorLine(stderr, "no such file or folder");
    }

    [Theory]
    [InlineData("1000")]
    [InlineData("8KiB")]
    [InlineData("32MiB")]
    [InlineData("48KiB")]
    public async Task Create_rejects_a_bad_piece_size(string size)
    {
        (int code, _, string stderr) = await RunAsync("create", _folder, "--piece-size", size);
        Assert.Equal(2, code);
        AssertOneErrorLine(stderr, "--piece-size");
    }

    [Fact]
    public async Task Create_refuses_to_overwrite_without_force()
    {
        string content = Path.Combine(_folder, "data.bin");
        await File.WriteAllBytesAsync(content, new byte[100]);
        string output = Path.Combine(_folder, "out.torrent");
        await File.WriteAllTextAsync(output, "keep me");

        (int code, _, string stderr) = await RunAsync("create", content, "-o", output);

        Assert.Equal(2, code);
        AssertOneErrorLine(stderr, "--force");
        Assert.Equal("keep me", await File.ReadAllTextAsync(output));
    }

    [Fact]
    public async Task Cancelled_before_start_does_not_print_a_stack_trace()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        int code = await Program.RunAsync(["info", Path.Combine(_folder, "x.torrent")], stdout, stderr, cancelled.Token);
        Assert.Equal(130, code);
        Assert.DoesNotContain("   at ", stderr.ToString());
    }
}
