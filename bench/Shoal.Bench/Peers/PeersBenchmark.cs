using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Shoal.Metainfo;

namespace Shoal.Bench.Peers;

/// <summary>
/// One Shoal seeder child against N connections from this process: memory per idle connection, and
/// throughput and CPU per GiB with N downloaders at once.
/// </summary>
internal static class PeersBenchmark
{
    private const string PayloadName = "payload.bin";
    private const int RequestDepth = 16;
    private const int ConnectConcurrency = 16;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--serve")) return await PeersSeeder.RunAsync(args).ConfigureAwait(false);
        var options = PeersOptions.Parse(args);
        var outcome = await MeasureAsync(options).ConfigureAwait(false);
        var markdown = Render(outcome, string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        Console.WriteLine(markdown);
        if (options.OutFile is not null) await File.WriteAllTextAsync(options.OutFile, markdown).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Starts the seeder child, warms it up, then measures every N idle and active.</summary>
    public static async Task<PeersOutcome> MeasureAsync(PeersOptions options)
    {
        var work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-peers-{options.Size}-{options.Seed}");
        var seedRoot = Path.Combine(work, "seed");
        Directory.CreateDirectory(seedRoot);
        var payload = Path.Combine(seedRoot, PayloadName);
        EnsurePayload(payload, options.Size, options.Seed);
        var torrentPath = Path.Combine(work, $"payload-{options.PieceSize}.torrent");
        if (!File.Exists(torrentPath) || File.GetLastWriteTimeUtc(torrentPath) < File.GetLastWriteTimeUtc(payload))
        {
            var created = await TorrentCreator.CreateAsync(payload, new TorrentCreationOptions { PieceLength = options.PieceSize }).ConfigureAwait(false);
            await File.WriteAllBytesAsync(torrentPath, created.ToBytes()).ConfigureAwait(false);
        }
        var torrent = Torrent.Load(torrentPath);

        Console.Error.WriteLine("starting the seeder child...");
        using var seeder = await SeederChild.StartAsync(torrentPath, seedRoot, options.Counts.Max() + 16).ConfigureAwait(false);
        var endPoint = new IPEndPoint(IPAddress.Loopback, seeder.Port);
        // Warm-up: the first connections pay for JIT, thread-pool threads and socket buffers once; keep that out of N's numbers.
        Console.Error.WriteLine("warm-up: 8 peers, 2 s...");
        await ActiveAsync(seeder, endPoint, torrent, 8, TimeSpan.FromSeconds(2), new Random(options.Seed ^ 1)).ConfigureAwait(false);
        await seeder.CollectAsync().ConfigureAwait(false);
        var start = seeder.Sample();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeder pid {seeder.Pid} on port {seeder.Port}: RSS {start.Rss / 1048576.0:0.0} MiB, anon {start.Anon / 1048576.0:0.0} MiB"));

        var rows = new List<PeersRow>();
        var random = new Random(options.Seed);
        foreach (var count in options.Counts)
        {
            Console.Error.WriteLine($"[N={count}] idle...");
            var idle = await IdleAsync(seeder, endPoint, torrent, count, random).ConfigureAwait(false);
            Console.Error.WriteLine($"[N={count}] active for {options.Seconds} s...");
            var active = await ActiveAsync(seeder, endPoint, torrent, count, TimeSpan.FromSeconds(options.Seconds), random).ConfigureAwait(false);
            var row = new PeersRow(count, idle.Rss, idle.Anon, idle.AnonAfterGc, idle.BaseRss, idle.BaseAnon, active.Bytes, active.Seconds, active.Cpu, active.PeersServed, active.PeakAnon);
            Console.Error.WriteLine(Format(row));
            rows.Add(row);
        }
        return new PeersOutcome(options, torrent.PieceLength, rows);
    }

    private static async Task<(double Rss, double Anon, double AnonAfterGc, long BaseRss, long BaseAnon)> IdleAsync(
        SeederChild seeder, IPEndPoint endPoint, Torrent torrent, int count, Random random)
    {
        await seeder.CollectAsync().ConfigureAwait(false);
        await Task.Delay(500).ConfigureAwait(false);
        var before = seeder.Sample();
        var peers = await ConnectAsync(endPoint, torrent, count, random).ConfigureAwait(false);
        try
        {
            await WaitForPeersAsync(seeder, count).ConfigureAwait(false);
            await Task.Delay(Settle).ConfigureAwait(false);
            var settled = seeder.Sample();
            await seeder.CollectAsync().ConfigureAwait(false);
            await Task.Delay(500).ConfigureAwait(false);
            var collected = seeder.Sample();
            if ((await seeder.StatAsync().ConfigureAwait(false)).Peers != count) throw new BenchFailedException("the seeder dropped idle peers");
            return ((settled.Rss - before.Rss) / 1024.0 / count, (settled.Anon - before.Anon) / 1024.0 / count,
                (collected.Anon - before.Anon) / 1024.0 / count, before.Rss, before.Anon);
        }
        finally
        {
            await CloseAllAsync(peers).ConfigureAwait(false);
            await WaitForPeersAsync(seeder, 0).ConfigureAwait(false);
        }
    }

    private static async Task<(long Bytes, double Seconds, double Cpu, int PeersServed, long PeakAnon)> ActiveAsync(
        SeederChild seeder, IPEndPoint endPoint, Torrent torrent, int count, TimeSpan duration, Random random)
    {
        var peers = await ConnectAsync(endPoint, torrent, count, random).ConfigureAwait(false);
        try
        {
            await WaitForPeersAsync(seeder, count).ConfigureAwait(false);
            var before = seeder.Sample();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource(duration);
            var downloads = new Task[count];
            for (var i = 0; i < count; i++) downloads[i] = peers[i].DownloadAsync((int)((long)i * torrent.PieceCount / count), RequestDepth, stop.Token);
            var all = Task.WhenAll(downloads);
            var peakAnon = before.Anon;
            while (!all.IsCompleted)
            {
                peakAnon = Math.Max(peakAnon, seeder.Sample().Anon);
                await Task.WhenAny(all, Task.Delay(250)).ConfigureAwait(false);
            }
            await all.ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var after = seeder.Sample();
            long bytes = 0;
            var served = 0;
            foreach (var peer in peers)
            {
                bytes += peer.Received;
                if (peer.Received > 0) served++;
            }
            return (bytes, seconds, after.Cpu - before.Cpu, served, peakAnon);
        }
        finally
        {
            await CloseAllAsync(peers).ConfigureAwait(false);
            await WaitForPeersAsync(seeder, 0).ConfigureAwait(false);
        }
    }

    private static async Task<WirePeer[]> ConnectAsync(IPEndPoint endPoint, Torrent torrent, int count, Random random)
    {
        var peers = new WirePeer?[count];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seeds = new int[count];
        for (var i = 0; i < count; i++) seeds[i] = random.Next();
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = ConnectConcurrency, CancellationToken = timeout.Token },
                async (i, token) => peers[i] = await WirePeer.ConnectAsync(endPoint, torrent, new Random(seeds[i]), token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception error) when (error is OperationCanceledException or System.Net.Sockets.SocketException or BenchFailedException)
        {
            await CloseAllAsync(peers).ConfigureAwait(false);
            throw new BenchFailedException($"opening {count} connections failed: {error.Message}");
        }
        return peers!;
    }

    private static async Task CloseAllAsync(IEnumerable<WirePeer?> peers)
    {
        foreach (var peer in peers)
        {
            if (peer is not null) await peer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task WaitForPeersAsync(SeederChild seeder, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var (peers, _) = await seeder.StatAsync().ConfigureAwait(false);
            if (peers == count) return;
            if (DateTime.UtcNow > deadline) throw new BenchFailedException($"the seeder holds {peers} peers, expected {count}");
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private static void EnsurePayload(string path, long size, int seed)
    {
        if (File.Exists(path) && new FileInfo(path).Length == size) return;
        Console.Error.WriteLine($"writing {ByteSize.Format(size)} of seeded random data to {path}...");
        var random = new Random(seed);
        var buffer = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        for (var left = size; left > 0;)
        {
            var chunk = (int)Math.Min(buffer.Length, left);
            random.NextBytes(buffer.AsSpan(0, chunk));
            file.Write(buffer, 0, chunk);
            left -= chunk;
        }
    }

    private static string Format(PeersRow r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Count} | {r.IdleRssKiB:0.0} | {r.IdleAnonKiB:0.0} | {r.IdleAnonAfterGcKiB:0.0} | {r.MiBPerSecond:0.0} | {r.CpuPerGiB:0.00} | {r.PeersServed} | {r.ActivePeakAnon / 1048576.0:0.0} |");

    /// <summary>The markdown table with its header; <paramref name="arguments"/> are the bench arguments that reproduce it.</summary>
    public static string Render(PeersOutcome outcome, string arguments)
    {
        var (options, rows) = (outcome.Options, outcome.Rows);
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"### peers: one Shoal seeder, N connections over TCP on 127.0.0.1, {ByteSize.Format(options.Size)} torrent ({ByteSize.Format(outcome.PieceLength)} pieces)");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `dotnet run -c Release --project bench/Shoal.Bench -- {arguments}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; {Environment.ProcessorCount} cores; .NET {Environment.Version}");
        md.AppendLine("- seeder: a child process running ShoalSession (loopback, no DHT/LSD, connection limits raised to N+16; defaults UnchokeSlots 4 + 1 optimistic)");
        md.AppendLine("- peers: raw sockets in the benchmark process, Shoal.Wire handshake without extension bits, then INTERESTED");
        md.AppendLine("- warm-up first: 8 peers download for 2 s (JIT, thread-pool threads, pools), then every N runs idle then active");
        md.AppendLine("- idle: per-connection growth of the seeder's VmRSS / RssAnon, 2 s after all N joined, against a baseline taken after a full GC;");
        md.AppendLine("  'after GC' = RssAnon growth after a forced aggressive (decommitting) collection in the seeder");
        md.AppendLine(inv, $"- active: all N request {RequestDepth} blocks of 16 KiB at a time whenever unchoked, for {options.Seconds} s; data discarded;");
        md.AppendLine("  CPU = seeder user+system seconds over that window / GiB served; 'peers served' = how many received any data");
        md.AppendLine();
        md.AppendLine("| N | idle KiB/conn RSS | idle KiB/conn anon | idle KiB/conn anon after GC | active MiB/s served | seeder CPU s/GiB | peers served | seeder peak anon MiB (active) |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows) md.AppendLine(Format(r));
        if (rows.Count > 0) md.AppendLine(inv, $"\nseeder baseline before the first N: RSS {rows[0].BaseRss / 1048576.0:0.0} MiB, anon {rows[0].BaseAnon / 1048576.0:0.0} MiB");
        return md.ToString();
    }
}
