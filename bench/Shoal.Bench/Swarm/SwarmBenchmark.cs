using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Bench.Swarm;

/// <summary>
/// One seeder and N leechers on 127.0.0.1 with an upload cap on every peer, so upload capacity is the bottleneck:
/// D (until the last leecher has every piece verified) against the fluid-model minimum
/// D_min = max(F/u_s, N·F/(u_s + Σu_i)) and the client-server time N·F/u_s. Shoal peers are sessions in this
/// process (like <c>shoal demo</c>); with --mixed, half of the leechers are libtorrent processes (lt_get.py
/// --keep-seeding) that keep serving until the whole swarm is done.
/// </summary>
internal static class SwarmBenchmark
{
    private const string PayloadName = "payload.bin";
    private const int ContentSeed = 20240602;

    public static async Task<int> RunAsync(string[] args)
    {
        SwarmOptions options = SwarmOptions.Parse(args);
        Workspace? workspace = options.Mixed ? Workspace.Find() : null;
        SwarmOutcome outcome = await MeasureAsync(options, workspace).ConfigureAwait(false);
        Console.WriteLine(Render(outcome, $"swarm {string.Join(' ', args)}".TrimEnd()));
        return outcome.Succeeded ? 0 : 1;
    }

    /// <summary>
    /// Every N, --runs times each; a swarm that fails (a leecher never finishes) is recorded with its reason and the
    /// next one runs. <paramref name="workspace"/> (libtorrent) is needed with --mixed only.
    /// </summary>
    public static async Task<SwarmOutcome> MeasureAsync(SwarmOptions options, Workspace? workspace)
    {
        if (options.Mixed && workspace is null) throw new BenchFailedException("swarm --mixed and --all-libtorrent need python3-libtorrent");
        string root = options.Work ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-swarm-{options.Size}");
        string seedDir = Path.Combine(root, "seed");
        string file = Path.Combine(seedDir, PayloadName);
        await EnsurePayloadAsync(file, options.Size).ConfigureAwait(false);
        byte[] sourceHash = await Sha256Async(file).ConfigureAwait(false);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = options.PieceSize }).ConfigureAwait(false);
        string torrentPath = Path.Combine(root, "swarm.torrent");
        await File.WriteAllBytesAsync(torrentPath, torrent.ToBytes()).ConfigureAwait(false);

        var rows = new List<SwarmRow>();
        var failures = new List<string>();
        foreach (int n in options.Leechers)
        {
            for (int run = 1; run <= options.Runs; run++)
            {
                Console.Error.WriteLine($"[swarm N={n}{(options.Mixed ? " " + Label(options) : "")} run {run}/{options.Runs}] {ByteSize.Format(options.Size)}...");
                try
                {
                    SwarmRow row = await RunSwarmAsync(options, workspace, n, run, root, seedDir, torrent, torrentPath, sourceHash).ConfigureAwait(false);
                    rows.Add(row);
                    Console.Error.WriteLine(FormatRow(options, row));
                }
                catch (Exception error) when (error is BenchFailedException or TimeoutException)
                {
                    Console.Error.WriteLine($"  FAILED: {error.Message}");
                    failures.Add($"N={n} run {run}: {error.Message.Split('\n')[0].Replace('|', '/')}");
                }
            }
        }
        return new SwarmOutcome(options, torrent.PieceCount, torrent.PieceLength, workspace?.LibtorrentVersion, rows, failures);
    }

    /// <summary>The markdown table with its header; <paramref name="command"/> is the verb and arguments that reproduce it.</summary>
    public static string Render(SwarmOutcome outcome, string command)
    {
        SwarmOptions options = outcome.Options;
        var inv = CultureInfo.InvariantCulture;
        var md = new System.Text.StringBuilder();
        md.AppendLine(inv, $"### swarm: 1 seeder + N leechers on 127.0.0.1, {ByteSize.Format(options.Size)} in {outcome.PieceCount} pieces of {ByteSize.Format(outcome.PieceLength)}");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}`");
        string libtorrent = outcome.LibtorrentVersion is null ? "" : ", libtorrent " + outcome.LibtorrentVersion;
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}{libtorrent}");
        md.AppendLine(inv,
            $"- upload caps: seeder u_s = {options.SeederRate:N0} B/s, every leecher u_i = {options.LeecherRate:N0} B/s; no download caps; DHT and LSD off, every leecher told every other address");
        md.AppendLine("- D = from starting the leechers until every leecher has the whole file verified; efficiency = D_min / D; client-server = N·F/u_s");
        md.AppendLine("- CPU = this process (seeder and Shoal leechers), user+system over D" + (options.Mixed ? "; lt CPU = the libtorrent processes, from their start to D (includes python start-up)" : ""));
        if (options.Libtorrent == LibtorrentShare.Half)
            md.AppendLine("- mixed: leechers 1..N-N/2 are Shoal, the last N/2 libtorrent (lt_get.py); D includes libtorrent's process start (~0.3 s)");
        if (options.Libtorrent == LibtorrentShare.All)
            md.AppendLine("- all lt: every leecher is libtorrent (lt_get.py) around the same Shoal seeder, the reference for the mixed rows; D includes libtorrent's process start (~0.3-0.7 s)");
        md.AppendLine();
        md.AppendLine("| N | run | D_min s | D s | efficiency | client-server s | finish min / median / max s | seeder uploaded / all uploaded | CPU s | data |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |");
        foreach (SwarmRow row in outcome.Rows) md.AppendLine(FormatRow(options, row));
        foreach (string failure in outcome.Failures) md.AppendLine(inv, $"| {failure} | | | | failed | | | | | |");
        return md.ToString();
    }

    private static string FormatRow(SwarmOptions options, SwarmRow r)
    {
        var inv = CultureInfo.InvariantCulture;
        string finish = Spread(r.Finish.Select(x => x.Seconds));
        if (options.Libtorrent == LibtorrentShare.Half)
        {
            finish += "; Shoal " + Spread(r.Finish.Where(x => !x.Libtorrent).Select(x => x.Seconds)) +
                      "; lt " + Spread(r.Finish.Where(x => x.Libtorrent).Select(x => x.Seconds));
        }
        double share = r.TotalUploaded == 0 ? 0 : (double)r.SeederUploaded / r.TotalUploaded;
        string cpu = options.Mixed ? string.Create(inv, $"{r.CpuSeconds:0.0} + lt {r.LtCpuSeconds:0.0}") : r.CpuSeconds.ToString("0.0", inv);
        return string.Create(inv,
            $"| {r.Leechers}{(options.Mixed ? $" ({Label(options)})" : "")} | {r.Run} | {r.DMinSeconds:0.0} | {r.Seconds:0.0} | {r.Efficiency:P0} | {r.ClientServerSeconds:0.0} | {finish} | " +
            $"{r.SeederUploaded / 1048576.0:0} / {r.TotalUploaded / 1048576.0:0} MiB ({share:P0}) | {cpu} | " +
            $"{(r.BadCopies == 0 ? "identical" : $"**{r.BadCopies} differ**")} |");
    }

    private static string Label(SwarmOptions options) => options.Libtorrent switch
    {
        LibtorrentShare.Half => "mixed",
        LibtorrentShare.All => "all lt",
        _ => "",
    };

    private static string Spread(IEnumerable<double> values)
    {
        double[] v = values.Order().ToArray();
        if (v.Length == 0) return "-";
        double median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"{v[0]:0.0} / {median:0.0} / {v[^1]:0.0}");
    }

    private static async Task<SwarmRow> RunSwarmAsync(SwarmOptions options, Workspace? workspace, int n, int run, string root, string seedDir,
        Torrent torrent, string torrentPath, byte[] sourceHash)
    {
        int ltCount = options.LibtorrentLeechers(n);
        int shoalCount = n - ltCount;
        string LeecherDir(int i) => Path.Combine(root, "leecher-" + (i + 1).ToString(CultureInfo.InvariantCulture));
        for (int i = 0; i < n; i++)
        {
            if (Directory.Exists(LeecherDir(i))) Directory.Delete(LeecherDir(i), recursive: true);
        }

        var sessions = new List<ShoalSession>();
        var lt = new List<BenchProcess>();
        try
        {
            SessionOptions Capped(long rate) => new()
            {
                BindAddress = IPAddress.Loopback,
                ListenPort = 0,
                MaxUploadRate = rate,
                EnableDht = false,
                EnableLocalDiscovery = false,
                MaxConnectionsPerAddress = n + 8, // the whole swarm shares 127.0.0.1
                // Plain, like the libtorrent leechers (lt_get.py plaintext) and the runs docs/performance.md records.
                Encryption = EncryptionMode.Disable,
            };
            ShoalSession seeder = await ShoalSession.StartAsync(Capped(options.SeederRate)).ConfigureAwait(false);
            sessions.Add(seeder);
            TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir }).ConfigureAwait(false);
            await seed.Completion.WaitAsync(options.Timeout).ConfigureAwait(false); // checked and seeding before the clock starts

            var endpoints = new IPEndPoint[n];
            for (int i = 0; i < shoalCount; i++)
            {
                ShoalSession s = await ShoalSession.StartAsync(Capped(options.LeecherRate)).ConfigureAwait(false);
                sessions.Add(s);
                endpoints[i] = s.ListenEndPoint;
            }
            for (int i = shoalCount; i < n; i++) endpoints[i] = new IPEndPoint(IPAddress.Loopback, FreePort());

            GC.Collect();
            GC.WaitForPendingFinalizers();
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var finishes = new Task<(double, bool)>[n];
            var listening = new List<Task<(double Seconds, bool)>>();

            // libtorrent first: their process start is the slowest part of the launch.
            for (int i = shoalCount; i < n; i++)
            {
                var arguments = new List<string>
                {
                    Path.Combine(workspace!.Scripts, "lt_get.py"), "--torrent", torrentPath, "--save-path", LeecherDir(i),
                    "--port", endpoints[i].Port.ToString(CultureInfo.InvariantCulture),
                    "--upload-rate", options.LeecherRate.ToString(CultureInfo.InvariantCulture),
                    "--timeout", ((int)options.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                    "--keep-seeding", "--quiet", "--peer", seeder.ListenEndPoint.ToString(),
                };
                for (int j = 0; j < n; j++)
                {
                    if (j != i) arguments.AddRange(["--peer", endpoints[j].ToString()]);
                }
                BenchProcess process = BenchProcess.Start($"lt leecher {i + 1}", workspace.Python, arguments, null);
                lt.Add(process);
                finishes[i] = Timed(process.WaitForLineAsync(l => l.StartsWith("DONE ", StringComparison.Ordinal), options.Timeout, "DONE"), clock, true);
                listening.Add(Timed(process.WaitForLineAsync(l => l.StartsWith("LISTEN ", StringComparison.Ordinal), options.Timeout, "LISTEN"), clock, true));
            }

            var handles = new TorrentHandle[shoalCount];
            for (int i = 0; i < shoalCount; i++)
            {
                // The seeder first, then every other leecher, as in shoal demo.
                var peers = new List<IPEndPoint>(n) { seeder.ListenEndPoint };
                for (int j = 0; j < n; j++)
                {
                    if (j != i) peers.Add(endpoints[j]);
                }
                handles[i] = await sessions[i + 1].AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = LeecherDir(i), Peers = peers })
                    .ConfigureAwait(false);
                finishes[i] = Timed(handles[i].Completion, clock, false);
            }

            (double Seconds, bool Libtorrent)[] finish;
            try
            {
                finish = await Task.WhenAll(finishes).WaitAsync(options.Timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                int done = finishes.Count(t => t.IsCompletedSuccessfully);
                throw new BenchFailedException($"swarm N={n}: only {done} of {n} leechers finished within {options.Timeout.TotalSeconds:0} s");
            }
            double seconds = finish.Max(f => f.Seconds);
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            double ltCpu = 0;
            foreach (BenchProcess p in lt) ltCpu += BenchProcess.Sample(p.WorkerPid)?.CpuSeconds ?? 0;

            // Stop the libtorrent leechers (they stop when stdin closes) and collect what they uploaded.
            var uploaded = new long[n];
            foreach (BenchProcess p in lt) p.CloseStandardInput();
            for (int i = shoalCount; i < n; i++)
            {
                BenchProcess p = lt[i - shoalCount];
                string line = await p.WaitForLineAsync(l => l.StartsWith("UPLOADED ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "UPLOADED")
                    .ConfigureAwait(false);
                uploaded[i] = long.Parse(line.AsSpan(9), CultureInfo.InvariantCulture);
                await p.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }

            await Task.Delay(TimeSpan.FromSeconds(1.2)).ConfigureAwait(false); // the actors publish counters every 500 ms
            long seederUploaded = seed.GetStatus().Uploaded;
            long totalUploaded = seederUploaded;
            long shoalDownloaded = 0;
            for (int i = 0; i < shoalCount; i++)
            {
                TorrentStatus st = handles[i].GetStatus();
                uploaded[i] = st.Uploaded;
                shoalDownloaded += st.Downloaded;
            }
            // Details on stderr: what each leecher served (a cap that does not bite shows here) and the Shoal leechers' waste.
            var detail = new System.Text.StringBuilder();
            detail.Append(CultureInfo.InvariantCulture, $"N={n}: seeder uploaded {seederUploaded / 1048576.0:0.0} MiB ({seederUploaded / seconds / 1e6:0.0} MB/s over D); leechers (MiB uploaded @ finish s):");
            for (int i = 0; i < n; i++)
            {
                totalUploaded += uploaded[i];
                detail.Append(CultureInfo.InvariantCulture, $" {(i < shoalCount ? "S" : "L")}{i + 1} {uploaded[i] / 1048576.0:0.0}@{finish[i].Seconds:0.0}");
            }
            if (shoalCount > 0)
            {
                detail.Append(CultureInfo.InvariantCulture,
                    $"; Shoal leechers downloaded {shoalDownloaded / 1048576.0:0.0} MiB for {shoalCount * (torrent.TotalSize / 1048576.0):0.0} MiB of data");
            }
            if (listening.Count > 0)
            {
                detail.Append(CultureInfo.InvariantCulture, $"; libtorrent processes listening after {listening.Min(t => t.Result.Seconds):0.00}-{listening.Max(t => t.Result.Seconds):0.00} s");
            }
            Console.Error.WriteLine(detail.ToString());

            int bad = 0;
            for (int i = 0; i < n; i++)
            {
                string copy = Path.Combine(LeecherDir(i), torrent.Name);
                if (!File.Exists(copy) || !(await Sha256Async(copy).ConfigureAwait(false)).AsSpan().SequenceEqual(sourceHash)) bad++;
            }
            double f = options.Size;
            double dMin = Math.Max(f / options.SeederRate, n * f / (options.SeederRate + (double)n * options.LeecherRate));
            return new SwarmRow(n, run, dMin, seconds, n * f / options.SeederRate, finish, seederUploaded, totalUploaded, cpu, ltCpu, bad);
        }
        finally
        {
            foreach (BenchProcess p in lt) p.Dispose();
            for (int i = sessions.Count - 1; i >= 0; i--) await sessions[i].DisposeAsync().ConfigureAwait(false);
            for (int i = 0; i < n; i++)
            {
                try
                {
                    if (Directory.Exists(LeecherDir(i))) Directory.Delete(LeecherDir(i), recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static async Task<(double, bool)> Timed(Task task, Stopwatch clock, bool libtorrent)
    {
        await task.ConfigureAwait(false);
        return (clock.Elapsed.TotalSeconds, libtorrent);
    }

    private static async Task EnsurePayloadAsync(string file, long size)
    {
        if (File.Exists(file) && new FileInfo(file).Length == size) return;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        Console.Error.WriteLine($"writing {size} bytes of random data to {file}...");
        await using FileStream output = File.Create(file);
        byte[] chunk = new byte[1 << 20];
        var random = new Random(ContentSeed);
        for (long written = 0; written < size; written += chunk.Length)
        {
            random.NextBytes(chunk);
            await output.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - written))).ConfigureAwait(false);
        }
    }

    private static async Task<byte[]> Sha256Async(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await SHA256.HashDataAsync(stream).ConfigureAwait(false);
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
