using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Shoal.Cli;
using Shoal.Cli.Commands;
using Shoal.Cli.Demo;
using Shoal.Cli.Reporting;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Interop;
using Shoal.Tests.Metainfo;
using Shoal.Trackers;
using Spectre.Console;

namespace Shoal.Tests.Cli;

/// <summary>The command tells the user what is wrong, in words that fit the terminal and cannot drive it.</summary>
public sealed class CommandFeedbackTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("shoal-feedback-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(args, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static TorrentStatus Status(TorrentState state, int peers = 3, long downRate = 1_258_291, string? error = null,
        PeerSearch? search = null, double progress = 0.42) =>
        new(state, progress, 64L << 20, (long)(progress * (64L << 20)), 1000, 2000, downRate, 0, peers, 0, 10, 256, 0, error,
            peers > 0 ? new PeerSourceCounts(0, 0, peers, 0, 0, 0) : null, Search: search);

    /// <summary>Every character a terminal would interpret, other than the line ends we write ourselves.</summary>
    private static void AssertNoRawControls(string output)
    {
        foreach (char c in output.Replace("\r\n", "").Replace("\n", ""))
            Assert.False(TerminalText.NeedsEscape(c), $"raw U+{(int)c:X4} in the output: {output}");
    }

    // ---- issue 13 item 4: nothing from a torrent reaches the terminal raw ---------------------------------------

    [Theory]
    [InlineData("a\u001b[2Jb", "a\\e[2Jb")]
    [InlineData("ring\u0007", "ring\\x07")]
    [InlineData("two\nlines\r", "two\\nlines\\r")]
    [InlineData("tab\tdel\u007f", "tab\\tdel\\x7f")]
    [InlineData("c1 csi\u009b31m", "c1 csi\\u009b31m")]
    [InlineData("gpj.\u202eexe", "gpj.\\u202eexe")]
    [InlineData("iso\u2066late\u2069 ls\u2028", "iso\\u2066late\\u2069 ls\\u2028")]
    public void Terminal_text_escapes_every_control_character(string raw, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(raw));
        AssertNoRawControls(TerminalText.Escape(raw));
    }

    [Fact]
    public void Terminal_text_leaves_ordinary_text_alone_without_copying_it()
    {
        const string text = "Über 日本語 C:\\path \"quoted\" 100%";
        Assert.Same(text, TerminalText.Escape(text));
    }

    [Fact]
    public async Task Info_escapes_what_a_torrent_says()
    {
        string file = Path.Combine(_folder, "data.bin");
        await File.WriteAllBytesAsync(file, new byte[1000]);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions
        {
            Comment = "nice\u001b]0;owned\u0007 \u001b[31mred\nfake line\u202e",
            CreatedBy = "evil\u009b2J",
        });
        string torrentFile = Path.Combine(_folder, "evil.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent.ToBytes());

        (int code, string stdout, _) = await RunAsync("info", torrentFile);

        Assert.Equal(0, code);
        AssertNoRawControls(stdout);
        Assert.Contains("comment:       nice\\e]0;owned\\x07 \\e[31mred\\nfake line\\u202e", stdout, StringComparison.Ordinal);
        Assert.Contains("created by:    evil\\u009b2J", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_escapes_what_a_magnet_link_says()
    {
        (int code, string stdout, _) = await RunAsync("info",
            "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x%1B%5B2Jy%E2%80%AEz&tr=http%3A%2F%2Ft.example%2F%1B");
        Assert.Equal(0, code);
        AssertNoRawControls(stdout);
        Assert.Contains("x\\e[2Jy\\u202ez", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_lines_escape_what_they_quote()
    {
        string line = ErrorReporter.Line("cannot open 'a\u001b]0;x\u0007b': denied");
        Assert.Equal("shoal: error: cannot open 'a\\e]0;x\\x07b': denied", line);
    }

    [Fact]
    public async Task The_engine_log_is_escaped_too()
    {
        var error = new StringWriter();
        var context = new CliContext(TextWriter.Null, error, false, false) { Verbose = true };
        context.EngineLog!("[name\u001b[2J] peer joined");
        Assert.Equal("shoal: [name\\e[2J] peer joined", error.ToString().TrimEnd());
        await Task.CompletedTask;
    }

    // ---- the status line ----------------------------------------------------------------------------------------

    [Fact]
    public void One_peer_is_a_peer()
    {
        Assert.Equal("1 peer (tracker 1)", StatusText.Peers(Status(TorrentState.Downloading, peers: 1)));
        Assert.Equal("3 peers (tracker 3)", StatusText.Peers(Status(TorrentState.Downloading, peers: 3)));
        Assert.Equal("0 peers", StatusText.Peers(Status(TorrentState.Downloading, peers: 0)));
    }

    [Fact]
    public void No_eta_while_seeding()
    {
        Assert.Contains("ETA", StatusText.Summary(Status(TorrentState.Downloading), arrows: true), StringComparison.Ordinal);
        Assert.DoesNotContain("ETA", StatusText.Summary(Status(TorrentState.Seeding, progress: 1), arrows: true), StringComparison.Ordinal);
        Assert.DoesNotContain("eta", PlainDescribe(Status(TorrentState.Seeding, progress: 1)), StringComparison.OrdinalIgnoreCase);
    }

    private static string PlainDescribe(TorrentStatus status) => StatusDisplay.Describe(status);

    [Fact]
    public void The_live_display_shows_why_a_torrent_is_paused()
    {
        TorrentStatus paused = Status(TorrentState.Paused, error: "Cannot write '/dl/a.bin': the disk is full (No space left on device)");
        string? problem = StatusText.Problem(paused, [], PeerSources.All);
        IReadOnlyList<string> lines = LiveStatusDisplay.Lines(paused, "a.bin", problem, 80);
        Assert.Contains(lines, l => l.StartsWith("paused: Cannot write '/dl/a.bin': the disk is full", StringComparison.Ordinal));
    }

    [Fact]
    public void With_no_peer_the_display_says_what_was_tried()
    {
        var search = new PeerSearch(2, new PeerSourceCounts(2, 0, 0, 0, 0, 0), 2, "127.0.0.1:9: Connection refused");
        TrackerStatus tracker = new(new Uri("http://t.example/announce"), 0, false, "no answer within 15 s", null, null, null, 0, null, null);
        string? problem = StatusText.Problem(Status(TorrentState.Downloading, peers: 0, search: search), [tracker], new PeerSources(["DHT", "local discovery"]));
        Assert.Equal("no peer connected: 2 addresses known (manual 2), 2 tried; last: 127.0.0.1:9: Connection refused; " +
            "tracker http://t.example/announce: no answer within 15 s; DHT and local discovery off", problem);
        Assert.Null(StatusText.Problem(Status(TorrentState.Seeding, peers: 0, progress: 1), [], PeerSources.All));
    }

    [Fact]
    public void The_live_display_fits_80_columns()
    {
        var search = new PeerSearch(1999, new PeerSourceCounts(9, 9, 999, 999, 99, 999), 1999, "[2001:db8::1234:5678:9abc]:65535: " + new string('x', 200));
        TorrentStatus[] statuses =
        [
            Status(TorrentState.Downloading, peers: 60, downRate: 999L << 30),
            Status(TorrentState.Downloading, peers: 0, search: search),
            Status(TorrentState.Paused, error: new string('e', 300)),
            Status(TorrentState.Seeding, peers: 1, progress: 1),
        ];
        foreach (TorrentStatus status in statuses)
        {
            string? problem = StatusText.Problem(status, [], new PeerSources(["DHT"]));
            foreach (string line in LiveStatusDisplay.Lines(status, new string('n', 200), problem, 80))
                Assert.True(line.Length <= 80, $"{line.Length} columns: {line}");
        }
    }

    [Fact]
    public void The_demo_table_fits_80_columns_one_line_per_peer()
    {
        var rows = new List<DemoRow> { new("seeder", 1, 0, 999L << 20, 64, null, null) };
        for (int i = 1; i <= 64; i++) rows.Add(new DemoRow($"leecher {i}", 0.999, 999L << 20, 1023L << 20, 64, 0.999, TimeSpan.FromSeconds(599.9)));
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 80;
        console.Write(DemoTable.Build(TimeSpan.FromSeconds(599.9), rows));

        string[] lines = [.. output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0)];
        Assert.All(lines, line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        // title, header, rule, 65 rows: nothing wrapped onto a second line
        Assert.True(1 + 1 + 1 + rows.Count == lines.Length, $"{lines.Length} lines:\n{output}");
    }

    // ---- the commands ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Shoal_alone_prints_the_help()
    {
        (int code, string stdout, string stderr) = await RunAsync();
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        foreach (string command in new[] { "create", "info", "share", "get" }) Assert.Contains(command, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_version_string_for_the_command_peers_and_trackers()
    {
        (int code, string stdout, _) = await RunAsync("--version");
        Assert.Equal(0, code);
        Assert.Equal(ShoalVersion.Number, stdout.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+$", ShoalVersion.Number);
        Assert.Equal("Shoal " + ShoalVersion.Number, ShoalVersion.ClientName);
        Assert.Equal(ShoalVersion.ClientName, new SessionOptions().ClientName);                            // BEP 10 'v'
        Assert.Equal(ShoalVersion.ClientName, PeerIdentity.ClientName(PeerIdentity.NewPeerId()));         // peer id prefix, decoded
        Assert.Equal(ShoalVersion.ClientName, new TorrentCreationOptions().CreatedBy);
        Assert.Equal("libtorrent 2.0.8", PeerIdentity.ClientName("-LT2080-abcdefghijkl"u8));
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("file")]
    public async Task Create_of_nothing_is_a_usage_error(string kind)
    {
        string path = Path.Combine(_folder, "nothing");
        if (kind == "folder") Directory.CreateDirectory(path);
        else await File.WriteAllBytesAsync(path, []);
        (int code, string stdout, string stderr) = await RunAsync("create", path, "-o", Path.Combine(_folder, "x.torrent"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("shoal: error: ", line, StringComparison.Ordinal);
        Assert.Contains("at least one byte", line, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tilde_in_a_path_is_the_home_folder()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        (int code, _, string stderr) = await RunAsync("info", "~/no-such-shoal-test-file.torrent");
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(home, "no-such-shoal-test-file.torrent"), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_numbers_the_files_as_so_selects_them()
    {
        (int code, string stdout, _) = await RunAsync("info", TorrentCorpus.Fixture("pad-files.torrent"));
        Assert.Equal(0, code);
        string[] files = [.. stdout.Split('\n').Where(l => l.Contains("padded/", StringComparison.Ordinal)).Select(l => l.Trim())];
        // Padding files (BEP 47) are not shown but keep their numbers, as so= counts them.
        Assert.Equal(["0       100 B  padded/a", "2       100 B  padded/b", "4         5 B  padded/c"], files);
    }

    [Fact]
    public async Task Stop_after_idle_ends_a_download_that_gets_nothing_and_says_why()
    {
        string data = Path.Combine(_folder, "data.bin");
        await File.WriteAllBytesAsync(data, new byte[50_000]);
        Torrent torrent = await TorrentCreator.CreateAsync(data, new TorrentCreationOptions());
        string torrentFile = Path.Combine(_folder, "data.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent.ToBytes());
        int deadPort = LoopbackPort.FreePort(); // nobody listens there

        var watch = Stopwatch.StartNew();
        (int code, _, string stderr) = await RunAsync("get", torrentFile, "-o", Path.Combine(_folder, "dl"), "--port", "0", "--bind", "127.0.0.1",
            "--no-dht", "--no-lsd", "--peer", $"127.0.0.1:{deadPort}", "--stop-after-idle", "5s");

        Assert.Equal(1, code);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        string error = Assert.Single(stderr.Split('\n'), l => l.StartsWith("shoal: error: ", StringComparison.Ordinal));
        // 5 s: TCP is refused at once, but the dial fails only when uTP's SYN has gone 3 s without an answer too.
        Assert.Contains("nothing received for 0:05", error, StringComparison.Ordinal);
        Assert.Contains("no peer connected: 1 address known (manual 1), 1 tried", error, StringComparison.Ordinal);
        Assert.Contains($"last: 127.0.0.1:{deadPort}:", error, StringComparison.Ordinal);
        Assert.Contains("DHT and local discovery off", error, StringComparison.Ordinal);
        // The plain display (stderr is not a terminal here) said so as it happened, too.
        Assert.Contains("no peer connected", stderr.Replace(error, ""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_standard_output_ends_the_command_cleanly()
    {
        string data = Path.Combine(_folder, "data.bin");
        await File.WriteAllBytesAsync(data, new byte[50_000]);
        Torrent torrent = await TorrentCreator.CreateAsync(data, new TorrentCreationOptions());
        string torrentFile = Path.Combine(_folder, "data.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent.ToBytes());

        // shoal get --json | head -1: a download that can never finish, whose reader leaves after one line.
        var info = new ProcessStartInfo(ShoalCli.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { InteropEnvironment.ShoalDllPath, "get", torrentFile, "-o", Path.Combine(_folder, "dl"), "--json",
            "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd" }) info.ArgumentList.Add(arg);
        using Process process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string? first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("{", first, StringComparison.Ordinal);
        process.StandardOutput.Close();

        bool exited = process.WaitForExit(TimeSpan.FromSeconds(20));
        if (!exited) process.Kill(entireProcessTree: true);
        Assert.True(exited, "shoal kept running after its standard output was closed");
        Assert.Equal(ExitCodes.Interrupted, process.ExitCode);
        string errors = await stderr;
        Assert.DoesNotContain("error", errors, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_redirected_to_a_file_follows_what_others_wrote_there()
    {
        // { echo first; shoal create ...; echo last; } > log: one file offset shared by three writers.
        string data = Path.Combine(_folder, "data.bin");
        await File.WriteAllBytesAsync(data, new byte[40_000]);
        string log = Path.Combine(_folder, "log.txt");
        string torrent = Path.Combine(_folder, "data.torrent");
        string script = $"{{ echo first; '{ShoalCli.DotnetHost}' '{InteropEnvironment.ShoalDllPath}' create '{data}' -o '{torrent}'; echo last; }} > '{log}'";
        ProcessResult result = await ChildProcess.RunAsync("/bin/sh", ["-c", script], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.Transcript);
        string[] lines = await File.ReadAllLinesAsync(log);
        Assert.Equal("first", lines[0]);
        Assert.StartsWith("torrent: ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("info-hash: ", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("magnet: ", lines[3], StringComparison.Ordinal);
        Assert.Equal("last", lines[4]);
    }

    [Fact]
    public void A_write_to_a_closed_output_stops_once_and_never_throws()
    {
        int closed = 0;
        StandardOutput output = StandardOutput.Wrap(new BrokenPipeWriter());
        output.Closed = () => closed++;
        output.WriteLine("one");
        output.WriteLine("two");
        output.Flush();
        Assert.True(output.IsClosed);
        Assert.Equal(1, closed);
    }

    private sealed class BrokenPipeWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => throw new IOException("Broken pipe", 32);

        public override void Write(string? value) => throw new IOException("Broken pipe", 32);

        public override void WriteLine(string? value) => throw new IOException("Broken pipe", 32);
    }
}
