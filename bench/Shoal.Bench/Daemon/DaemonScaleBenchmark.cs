using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Metainfo;

namespace Shoal.Bench.Daemon;

/// <summary>
/// One <c>shoal daemon</c> holding N seeding torrents (one file of 64 KiB each), against libtorrent holding the same
/// torrents in one session, in the same run: the first start (every torrent checked), the stop, the restart from the
/// saved state (no check), resident memory and CPU when idle, and how long the API's torrent list takes.
/// </summary>
internal static class DaemonScaleBenchmark
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(30);

    public static async Task<int> RunAsync(string[] args)
    {
        DaemonScaleOptions options = DaemonScaleOptions.Parse(args);
        string root = Workspace.FindRoot();
        Workspace? workspace = options.Libtorrent ? Workspace.Find() : null;
        string shoal = Workspace.ResolveShoal(root, options.Shoal, build: false);
        Outcome outcome = await MeasureAsync(options, shoal, workspace).ConfigureAwait(false);
        Console.WriteLine(Render(outcome, $"daemon-scale {string.Join(' ', args)}".TrimEnd()));
        return 0;
    }

    /// <summary>The figures of one run: Shoal's, and libtorrent's when <paramref name="workspace"/> is given.</summary>
    public sealed record Outcome(DaemonScaleOptions Options, ShoalFigures Shoal, LibtorrentFigures? Libtorrent, string? LibtorrentVersion);

    /// <summary>Measures the daemon (CLI at <paramref name="shoal"/>) and, with a workspace, libtorrent on the same torrents.</summary>
    public static async Task<Outcome> MeasureAsync(DaemonScaleOptions options, string shoal, Workspace? workspace)
    {
        string work = options.Work ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-daemon-{options.Torrents}");
        (string content, string torrents) = await PrepareAsync(work, options).ConfigureAwait(false);
        ShoalFigures shoalFigures = await MeasureShoalAsync(shoal, work, content, torrents, options).ConfigureAwait(false);
        LibtorrentFigures? lt = workspace is null ? null : MeasureLibtorrent(workspace, work, content, torrents, options);
        return new Outcome(options, shoalFigures, lt, workspace?.LibtorrentVersion);
    }

    /// <summary>N files of random bytes (seeded) and their .torrent files; kept between runs.</summary>
    private static async Task<(string Content, string Torrents)> PrepareAsync(string work, DaemonScaleOptions options)
    {
        string content = Path.Combine(work, "content");
        string torrents = Path.Combine(work, "torrents");
        if (Directory.Exists(torrents) && Directory.EnumerateFiles(torrents, "*.torrent").Count() == options.Torrents) return (content, torrents);
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(content);
        Directory.CreateDirectory(torrents);
        var random = new Random(15);
        byte[] bytes = new byte[options.Size];
        Console.Error.WriteLine($"making {options.Torrents} torrents of {ByteSize.Format(options.Size)} in {work}...");
        for (int i = 0; i < options.Torrents; i++)
        {
            string name = $"t{i:D6}.bin";
            random.NextBytes(bytes);
            string file = Path.Combine(content, name);
            await File.WriteAllBytesAsync(file, bytes).ConfigureAwait(false);
            Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 16 * 1024, CreationDate = DateTimeOffset.UnixEpoch }).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(torrents, $"t{i:D6}.torrent"), torrent.ToBytes()).ConfigureAwait(false);
        }
        return (content, torrents);
    }

    /// <summary>The daemon's figures.</summary>
    public sealed record ShoalFigures(double AddSeconds, double ColdSeconds, double StopSeconds, double RestartSeconds, double IdleCpuPercent,
        long RssBytes, long AnonRssBytes, int OpenFiles, double ListMedianMs, double ListMaxMs, long ListBytes, double FinalStopSeconds);

    private static async Task<ShoalFigures> MeasureShoalAsync(string shoal, string work, string content, string torrents, DaemonScaleOptions options)
    {
        string data = Path.Combine(work, "shoal-data");
        if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        Workspace.SyncFileSystems();

        // First start: every torrent is added through the API and checked.
        var clock = Stopwatch.StartNew();
        (BenchProcess daemon, Uri address) = await StartDaemonAsync(shoal, data, content).ConfigureAwait(false);
        double add, cold, stop;
        using (daemon)
        using (HttpClient http = await ClientAsync(address).ConfigureAwait(false))
        {
            clock.Restart();
            string[] files = [.. Directory.EnumerateFiles(torrents, "*.torrent").Order(StringComparer.Ordinal)];
            foreach (string[] batch in files.Chunk(250))
            {
                using var form = new MultipartFormDataContent();
                foreach (string file in batch)
                {
                    var part = new ByteArrayContent(await File.ReadAllBytesAsync(file).ConfigureAwait(false));
                    part.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
                    form.Add(part, "torrents", Path.GetFileName(file));
                }
                using HttpResponseMessage response = await http.PostAsync("api/v1/torrents", form).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) throw new BenchFailedException($"add failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
            }
            add = clock.Elapsed.TotalSeconds;
            await WaitSeedingAsync(http, options.Torrents, daemon).ConfigureAwait(false);
            cold = clock.Elapsed.TotalSeconds;
            stop = await StopAsync(daemon).ConfigureAwait(false);
        }

        // Restart: from the database and the resume data, no check; timed from the process start.
        Workspace.SyncFileSystems();
        clock.Restart();
        (daemon, address) = await StartDaemonAsync(shoal, data, content).ConfigureAwait(false);
        using (daemon)
        using (HttpClient http = await ClientAsync(address).ConfigureAwait(false))
        {
            await WaitSeedingAsync(http, options.Torrents, daemon).ConfigureAwait(false);
            double restart = clock.Elapsed.TotalSeconds;

            // Idle means settled: the first minute after a start holds the runtime's own warm-up (tiered compilation
            // of the hot paths in the background), which is start-up cost, not what an idle daemon costs by the hour.
            await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds)).ConfigureAwait(false);
            int pid = daemon.WorkerPid;
            var before = BenchProcess.Sample(pid) ?? throw new BenchFailedException("cannot read the daemon's /proc entries");
            var idleClock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds)).ConfigureAwait(false);
            var after = BenchProcess.Sample(pid) ?? throw new BenchFailedException("cannot read the daemon's /proc entries");
            double idle = 100 * (after.CpuSeconds - before.CpuSeconds) / idleClock.Elapsed.TotalSeconds;
            long rss = CurrentRss(pid);
            int openFiles = Directory.GetFiles($"/proc/{pid}/fd").Length;

            var times = new List<double>();
            long bytes = 0;
            for (int i = 0; i < options.ListRuns; i++)
            {
                var one = Stopwatch.StartNew();
                byte[] body = await http.GetByteArrayAsync("api/v1/torrents").ConfigureAwait(false);
                times.Add(one.Elapsed.TotalMilliseconds);
                bytes = body.Length;
            }
            times.Sort();
            double finalStop = await StopAsync(daemon).ConfigureAwait(false);
            return new ShoalFigures(add, cold, stop, restart, idle, rss, after.AnonRssBytes, openFiles, times[times.Count / 2], times[^1], bytes, finalStop);
        }
    }

    private static long CurrentRss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    private static async Task<(BenchProcess, Uri)> StartDaemonAsync(string shoal, string data, string content)
    {
        (string file, string[] arguments) = Workspace.ShoalCommand(shoal, "daemon", "--data-dir", data, "-o", content, "--port", "0",
            "--bind", "127.0.0.1", "--web-port", "0", "--no-dht", "--no-lsd");
        BenchProcess daemon = BenchProcess.Start("shoal daemon", file, arguments, null);
        try
        {
            string line = await daemon.WaitForLineAsync(l => l.Contains("HTTP interface at ", StringComparison.Ordinal), TimeSpan.FromMinutes(5), "the daemon's address").ConfigureAwait(false);
            string url = line[(line.IndexOf("HTTP interface at ", StringComparison.Ordinal) + 18)..].Split(' ')[0];
            return (daemon, new Uri(url));
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    private static async Task<HttpClient> ClientAsync(Uri address)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
        using JsonDocument session = JsonDocument.Parse(await http.GetStringAsync("api/v1/session").ConfigureAwait(false));
        http.DefaultRequestHeaders.Add("X-Shoal-Csrf", session.RootElement.GetProperty("csrf_token").GetString());
        return http;
    }

    private static async Task WaitSeedingAsync(HttpClient http, int count, BenchProcess daemon)
    {
        DateTime deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            using JsonDocument stats = JsonDocument.Parse(await http.GetStringAsync("api/v1/stats").ConfigureAwait(false));
            int seeding = stats.RootElement.GetProperty("seeding").GetInt32();
            if (seeding >= count) return;
            if (daemon.HasExited || DateTime.UtcNow > deadline)
                throw new BenchFailedException($"only {seeding} of {count} torrents seed\n{daemon.Tail()}");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private static async Task<double> StopAsync(BenchProcess daemon)
    {
        var clock = Stopwatch.StartNew();
        daemon.Terminate();
        int code = await daemon.WaitForExitAsync(TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        if (code != 0) throw new BenchFailedException($"the daemon exited with {code}\n{daemon.Tail()}");
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>libtorrent's figures.</summary>
    public sealed record LibtorrentFigures(double ColdSeconds, double ColdStopSeconds, double RestartSeconds, double IdleCpuPercent, long RssBytes, long AnonRssBytes,
        int OpenFiles, double StopSeconds);

    private static LibtorrentFigures MeasureLibtorrent(Workspace workspace, string work, string content, string torrents, DaemonScaleOptions options)
    {
        string resume = Path.Combine(work, "lt-resume");
        if (Directory.Exists(resume)) Directory.Delete(resume, recursive: true);
        string script = Path.Combine(workspace.Scripts, "lt_daemon_scale.py");
        Workspace.SyncFileSystems();
        JsonElement cold = RunScript(workspace, script, ["--torrents", torrents, "--save-path", content, "--resume", resume, "--phase", "cold"]);
        Workspace.SyncFileSystems();
        var clock = Stopwatch.StartNew();
        JsonElement restart = RunScript(workspace, script, ["--torrents", torrents, "--save-path", content, "--resume", resume, "--phase", "restart",
            "--idle", options.IdleSeconds.ToString(CultureInfo.InvariantCulture), "--settle", options.SettleSeconds.ToString(CultureInfo.InvariantCulture)]);
        return new LibtorrentFigures(cold.GetProperty("seconds_to_seed").GetDouble(), cold.GetProperty("stop_seconds").GetDouble(),
            restart.GetProperty("seconds_to_seed").GetDouble(), restart.GetProperty("idle_cpu_percent").GetDouble(),
            restart.GetProperty("rss_bytes").GetInt64(), restart.GetProperty("rss_anon_bytes").GetInt64(), restart.GetProperty("open_files").GetInt32(),
            restart.GetProperty("stop_seconds").GetDouble());
    }

    private static JsonElement RunScript(Workspace workspace, string script, string[] arguments)
    {
        (int code, string output) = Workspace.RunQuick(workspace.Python, [script, .. arguments], Patience, workspace.Root);
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (code != 0 || last is null) throw new BenchFailedException("lt_daemon_scale.py failed:\n" + output);
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    /// <summary>The markdown table; <paramref name="command"/> is the verb and arguments that reproduce it.</summary>
    public static string Render(Outcome outcome, string command)
    {
        (DaemonScaleOptions o, ShoalFigures s, LibtorrentFigures? lt, string? ltVersion) = (outcome.Options, outcome.Shoal, outcome.Libtorrent, outcome.LibtorrentVersion);
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"### daemon-scale: {o.Torrents} seeding torrents of {ByteSize.Format(o.Size)} in one daemon");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, {Machine.MemoryTotal()}, load {Machine.LoadAverage()}, .NET {Environment.Version}{(ltVersion is null ? "" : ", libtorrent " + ltVersion)}");
        md.AppendLine("- Shoal: `shoal daemon` as a child process, torrents added through the HTTP API (multipart, 250 a request); restart timed from the process start until the API counts every torrent seeding. libtorrent: one session in `lt_daemon_scale.py`, restarted from its resume data.");
        md.AppendLine();
        md.AppendLine("| | Shoal daemon | libtorrent | target |");
        md.AppendLine("| --- | ---: | ---: | --- |");
        string L(Func<LibtorrentFigures, string> f) => lt is null ? "-" : f(lt);
        md.AppendLine(inv, $"| first start: added and checked until all seed | {s.ColdSeconds:0.0} s (adding {s.AddSeconds:0.0} s) | {L(l => l.ColdSeconds.ToString("0.0", inv) + " s")} | |");
        md.AppendLine(inv, $"| stop | {s.StopSeconds:0.00} s | {L(l => l.ColdStopSeconds.ToString("0.00", inv) + " s")} | |");
        md.AppendLine(inv, $"| restart until all seed, no check | {s.RestartSeconds:0.0} s | {L(l => l.RestartSeconds.ToString("0.0", inv) + " s")} | under 10 s |");
        md.AppendLine(inv, $"| resident memory (RSS; anonymous) | {ByteSize.Format(s.RssBytes)}; {ByteSize.Format(s.AnonRssBytes)} | {L(l => ByteSize.Format(l.RssBytes) + "; " + ByteSize.Format(l.AnonRssBytes))} | under 1 GiB |");
        md.AppendLine(inv, $"| idle CPU over {o.IdleSeconds} s, from {o.SettleSeconds} s after all seed, % of one core | {s.IdleCpuPercent:0.00} % | {L(l => l.IdleCpuPercent.ToString("0.00", inv) + " %")} | under 2 % |");
        md.AppendLine(inv, $"| open file descriptors | {s.OpenFiles} | {L(l => l.OpenFiles.ToString(inv))} | |");
        md.AppendLine(inv, $"| GET /api/v1/torrents ({ByteSize.Format(s.ListBytes)}), median / max of {o.ListRuns} | {s.ListMedianMs:0} / {s.ListMaxMs:0} ms | - | under 100 ms |");
        md.AppendLine(inv, $"| stop after the restart | {s.FinalStopSeconds:0.00} s | {L(l => l.StopSeconds.ToString("0.00", inv) + " s")} | |");
        return md.ToString();
    }
}
