using System.Globalization;
using System.Text;
using Shoal.Metainfo;

namespace Shoal.Bench.Many;

/// <summary>
/// <c>many-torrents</c> (issue 22): N single-file 64 KiB torrents seeded by one session, Shoal and libtorrent (via
/// python3-libtorrent) in the same run, each in a process of its own, from the same data with nothing known about it
/// beforehand (both hash everything). Measures the time from the first add until every torrent seeds, the descriptors
/// the process holds once they do, its CPU while nobody talks to it, its resident memory, and how long stopping takes.
/// </summary>
internal static class ManyTorrentsBenchmark
{
    private const int FileSize = 64 * 1024;
    private const int PieceSize = 16 * 1024;

    /// <summary>The runtime settings the shoal CLI ships with (its runtimeconfig), given to the Shoal child, which runs in this assembly.</summary>
    private static readonly Dictionary<string, string> ShippedRuntimeSettings = new()
    {
        ["DOTNET_gcConcurrent"] = "0",
        ["DOTNET_TieredPGO"] = "0",
    };

    /// <summary>One engine at one N.</summary>
    public sealed record Row(string Engine, int Count, double AddSeconds, double ColdStartSeconds, double SettleSeconds, int Descriptors, double IdleCpuPercent,
        long RssBytes, double StopSeconds, double? ManagedBytesPerTorrent);

    public sealed record Outcome(ManyTorrentsOptions Options, string LoadBefore, string LoadAfter, IReadOnlyList<Row> Rows, IReadOnlyList<string> Failures);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child")
        {
            // many-torrents --child TORRENTS DATA RESUME COUNT MAX-OPEN-FILES
            return await ShoalManyChild.RunAsync(args[1], args[2], args[3], int.Parse(args[4], CultureInfo.InvariantCulture),
                int.Parse(args[5], CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }
        ManyTorrentsOptions options = ManyTorrentsOptions.Parse(args);
        Outcome outcome = await MeasureAsync(options, options.Engines.Contains("libtorrent") ? Workspace.Find() : null).ConfigureAwait(false);
        Console.WriteLine(Render(outcome, $"dotnet run -c Release --project bench/Shoal.Bench -- many-torrents {string.Join(' ', args)}".TrimEnd()));
        if (outcome.Failures.Count > 0) throw new BenchFailedException(outcome.Failures[0]);
        return 0;
    }

    public static async Task<Outcome> MeasureAsync(ManyTorrentsOptions options, Workspace? workspace)
    {
        string loadBefore = Machine.LoadAverage();
        string work = options.Work ?? Path.Combine(Path.GetTempPath(), "shoal-bench-many");
        int most = options.Counts.Max();
        string data = Path.Combine(work, "data");
        string torrents = Path.Combine(work, "torrents");
        await PrepareAsync(data, torrents, most).ConfigureAwait(false);

        var rows = new List<Row>();
        var failures = new List<string>();
        foreach (int count in options.Counts)
        {
            foreach (string engine in options.Engines)
            {
                Console.Error.WriteLine($"many-torrents: {engine}, N = {count}");
                WarmPageCache(data, count); // both engines read their data from memory
                try
                {
                    rows.Add(await MeasureOneAsync(engine, count, options, work, data, torrents, workspace).ConfigureAwait(false));
                }
                catch (BenchFailedException error)
                {
                    failures.Add($"{engine} N={count}: {error.Message}");
                }
            }
        }
        return new Outcome(options, loadBefore, Machine.LoadAverage(), rows, failures);
    }

    private static async Task<Row> MeasureOneAsync(string engine, int count, ManyTorrentsOptions options, string work, string data, string torrents,
        Workspace? workspace)
    {
        string resume = Path.Combine(work, "resume-" + engine);
        if (Directory.Exists(resume)) Directory.Delete(resume, recursive: true); // a cold start: nothing known
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        using BenchProcess child = engine == "shoal"
            ? BenchProcess.Start("shoal", host, [typeof(ManyTorrentsBenchmark).Assembly.Location, "many-torrents", "--child", torrents, data, resume,
                Text(count), Text(options.MaxOpenFiles)], timeFile: null, ShippedRuntimeSettings)
            : BenchProcess.Start("libtorrent", (workspace ?? throw new BenchFailedException("libtorrent: no workspace")).Python,
                [Path.Combine(workspace.Scripts, "lt_many.py"), "--torrents", torrents, "--save-path", data, "--count", Text(count)], timeFile: null);
        string ready = await child.WaitForLineAsync(l => l.StartsWith("READY ", StringComparison.Ordinal), TimeSpan.FromMinutes(15), "READY").ConfigureAwait(false);
        double coldStart = Number(ready);
        double added = double.NaN;
        double? managed = null;
        if (engine == "shoal")
        {
            added = Number(await child.WaitForLineAsync(l => l.StartsWith("ADDED ", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "ADDED").ConfigureAwait(false));
            managed = Number(await child.WaitForLineAsync(l => l.StartsWith("MANAGED ", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "MANAGED").ConfigureAwait(false));
        }
        int pid = child.WorkerPid;
        // What the start left behind first (Shoal saves every torrent's resume data after a cold start, in batches;
        // the last ticks take idle torrents off the scheduler; Shoal then gives the burst's memory back, once, see
        // IdleMemoryRelease): at least --settle-seconds, then until two seconds in a row use under 1 % of a core (at
        // most a minute more), then the idle window.
        var settling = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds)).ConfigureAwait(false);
        for (int quiet = 0; quiet < 2 && settling.Elapsed < TimeSpan.FromSeconds(options.SettleSeconds + 60);)
        {
            double before = BenchProcess.Sample(pid)?.CpuSeconds ?? throw new BenchFailedException($"{engine}: process gone");
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            double after = BenchProcess.Sample(pid)?.CpuSeconds ?? throw new BenchFailedException($"{engine}: process gone");
            quiet = after - before < 0.01 ? quiet + 1 : 0;
        }
        double settled = settling.Elapsed.TotalSeconds;
        double cpuBefore = BenchProcess.Sample(pid)?.CpuSeconds ?? throw new BenchFailedException($"{engine}: process gone");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds)).ConfigureAwait(false);
        double cpuAfter = BenchProcess.Sample(pid)?.CpuSeconds ?? throw new BenchFailedException($"{engine}: process gone");
        double idle = (cpuAfter - cpuBefore) / clock.Elapsed.TotalSeconds * 100;
        int descriptors = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        long rss = ReadRss(pid);
        child.CloseStandardInput();
        double stop = Number(await child.WaitForLineAsync(l => l.StartsWith("STOPPED ", StringComparison.Ordinal), TimeSpan.FromMinutes(5), "STOPPED").ConfigureAwait(false));
        await child.WaitForExitAsync(TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        return new Row(engine, count, added, coldStart, settled, descriptors, idle, rss, stop, managed);
    }

    /// <summary>COUNT files of 64 KiB of seeded random bytes and a .torrent for each (made once; a larger N reuses a smaller one's).</summary>
    private static async Task PrepareAsync(string data, string torrents, int count)
    {
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(torrents);
        var content = new byte[FileSize];
        for (int i = 0; i < count; i++)
        {
            string name = $"f{i:D6}.bin";
            string torrentFile = Path.Combine(torrents, $"{i:D6}.torrent");
            if (File.Exists(torrentFile)) continue;
            if (i % 1000 == 0) Console.Error.WriteLine($"many-torrents: making torrents {i}..{Math.Min(count, i + 1000) - 1}");
            new Random(i + 1).NextBytes(content);
            string file = Path.Combine(data, name);
            await File.WriteAllBytesAsync(file, content).ConfigureAwait(false);
            Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = PieceSize }).ConfigureAwait(false);
            await File.WriteAllBytesAsync(torrentFile, torrent.ToBytes()).ConfigureAwait(false);
        }
    }

    private static void WarmPageCache(string data, int count)
    {
        var buffer = new byte[FileSize];
        for (int i = 0; i < count; i++)
        {
            using FileStream f = File.OpenRead(Path.Combine(data, $"f{i:D6}.bin"));
            while (f.Read(buffer) > 0) { }
        }
    }

    private static long ReadRss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    private static double Number(string line) => double.Parse(line.AsSpan(line.IndexOf(' ') + 1), CultureInfo.InvariantCulture);

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The table, one per N, with the targets beside it.</summary>
    public static string Render(Outcome outcome, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"### many-torrents: N single-file {FileSize / 1024} KiB torrents seeded by one session, Shoal and libtorrent");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}; load average before {outcome.LoadBefore}, after {outcome.LoadAfter}");
        md.AppendLine(inv, $"- each engine in its own process; DHT, LSD and port mapping off; no resume data (both hash everything); data in the page cache; idle CPU over {outcome.Options.IdleSeconds} s with no peer, once the process is quiet (at least {outcome.Options.SettleSeconds} s after all seed, then 2 s in a row under 1 % of a core, at most 60 s more); Shoal's file pool {outcome.Options.MaxOpenFiles}, Shoal's child with the CLI's runtime settings (non-concurrent workstation GC, no tiered PGO)");
        md.AppendLine("- targets (issue 22): open files within the pool's bound; idle CPU at or below libtorrent's; memory within 1.5x libtorrent's; cold start within 1.2x libtorrent's; stop under 1 s");
        foreach (IGrouping<int, Row> n in outcome.Rows.GroupBy(r => r.Count))
        {
            Row? s = n.FirstOrDefault(r => r.Engine == "shoal"), l = n.FirstOrDefault(r => r.Engine == "libtorrent");
            md.AppendLine();
            md.AppendLine(inv, $"| N = {n.Key:N0} | Shoal | libtorrent |");
            md.AppendLine("|---|---:|---:|");
            md.AppendLine(inv, $"| open file descriptors after the check | {s?.Descriptors} | {l?.Descriptors} |");
            md.AppendLine(inv, $"| idle CPU while seeding, % of one core | {s?.IdleCpuPercent:0.0} | {l?.IdleCpuPercent:0.0} |");
            md.AppendLine(inv, $"| resident memory, MiB | {s?.RssBytes / 1048576.0:0} | {l?.RssBytes / 1048576.0:0} |");
            md.AppendLine(inv, $"| cold start (hash everything) until all seed, s | {s?.ColdStartSeconds:0.00} | {l?.ColdStartSeconds:0.00} |");
            md.AppendLine(inv, $"| stop, s | {s?.StopSeconds:0.00} | {l?.StopSeconds:0.00} |");
            md.AppendLine(inv, $"| quiet (under 1 % CPU for 2 s) after all seed, s | {s?.SettleSeconds:0} | {l?.SettleSeconds:0} |");
            if (s is not null) md.AppendLine(inv, $"| Shoal: adding all (of the cold start), s; managed heap per torrent beyond its metainfo, KiB | {s.AddSeconds:0.00}; {s.ManagedBytesPerTorrent / 1024:0.0} | |");
        }
        foreach (string failure in outcome.Failures) md.AppendLine().AppendLine(inv, $"- failed: {failure}");
        return md.ToString();
    }
}
