using System.Diagnostics;
using System.Globalization;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Bench.Engine;

/// <summary>
/// One seeder session and one leecher session in this process, over real loopback sockets: the engine's
/// throughput without process start-up, and — the point of it — the bytes the whole process allocates per
/// 16 KiB block while the transfer runs (both sides together), from the runtime's own counter.
/// </summary>
internal static class InProcessBenchmark
{
    public const string Usage = "inproc [--size 1GiB] [--piece-size 1MiB] [--runs 3] [--work DIR] [--sample-allocations]";

    public static async Task<int> RunAsync(string[] args)
    {
        long size = 1L << 30;
        int pieceSize = 1 << 20;
        int runs = 3;
        string? work = null;
        bool sample = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--sample-allocations") { sample = true; continue; }
            string value = i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--size": size = ByteSize.Parse(value); i++; break;
                case "--piece-size": pieceSize = checked((int)ByteSize.Parse(value)); i++; break;
                case "--runs": runs = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--work": work = value; i++; break;
                default: throw new BenchUsageException($"inproc: unknown option {args[i]}");
            }
        }

        string root = work ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-inproc-{size}");
        string seedDir = Path.Combine(root, "seed");
        string file = Path.Combine(seedDir, "payload.bin");
        if (!File.Exists(file) || new FileInfo(file).Length != size)
        {
            Directory.CreateDirectory(seedDir);
            Console.Error.WriteLine($"writing {size} bytes of random data to {file}...");
            await using FileStream output = File.Create(file);
            byte[] chunk = new byte[1 << 20];
            var random = new Random(20240601);
            for (long written = 0; written < size; written += chunk.Length)
            {
                random.NextBytes(chunk);
                await output.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - written)));
            }
        }
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = pieceSize });

        Console.WriteLine("| run | seconds | MiB/s | process CPU s | allocated during transfer | bytes allocated per block | per block, second half | gen0/1/2 GCs | peak working set MiB |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
        using AllocationSampler? sampler = sample ? new AllocationSampler() : null;
        // The sessions live across runs, as in a client that downloads one torrent after another: run 1 pays for
        // filling the session's buffer pools (about as many blocks as are ever in flight at once), later runs show
        // what a warm session allocates.
        // Plain connections, as in the runs docs/performance.md records (the encrypted pair is measured by `pair --encryption rc4`).
        var options = new SessionOptions { BindAddress = IPAddress.Loopback, ListenPort = 0, EnableDht = false, EnableLocalDiscovery = false, Encryption = EncryptionMode.Disable };
        await using ShoalSession seeder = await ShoalSession.StartAsync(options);
        await using ShoalSession leecher = await ShoalSession.StartAsync(options);
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await seed.Completion; // checked and seeding before the clock starts
        for (int run = 1; run <= runs; run++)
        {
            string leechDir = Path.Combine(root, "leech");
            if (Directory.Exists(leechDir)) Directory.Delete(leechDir, recursive: true);

            GC.Collect();
            GC.WaitForPendingFinalizers();
            int[] gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            sampler?.Start();
            var clock = Stopwatch.StartNew();
            TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = leechDir, Peers = [seeder.ListenEndPoint] });
            // Steady state: what the second half of the transfer allocates, after the pools have filled (the first
            // half also pays one-off costs: buffer pools, piece buffers, JIT, connection set-up).
            long allocatedAtHalf = -1, verifiedAtHalf = 0;
            Task done = handle.Completion.WaitAsync(TimeSpan.FromMinutes(10));
            while (!done.IsCompleted)
            {
                await Task.WhenAny(done, Task.Delay(20));
                if (allocatedAtHalf < 0 && handle.GetStatus() is { } status && status.VerifiedPieces * 2 >= torrent.PieceCount)
                {
                    allocatedAtHalf = GC.GetTotalAllocatedBytes(precise: true);
                    verifiedAtHalf = (long)status.VerifiedPieces * torrent.PieceLength;
                }
            }
            await done;
            clock.Stop();
            await handle.StopAsync();
            sampler?.Stop();
            long allocatedEnd = GC.GetTotalAllocatedBytes(precise: true);
            long allocated = allocatedEnd - allocatedBefore;
            double steadyPerBlock = allocatedAtHalf < 0 ? double.NaN : (double)(allocatedEnd - allocatedAtHalf) / ((size - verifiedAtHalf) / (16.0 * 1024));
            using Process self = Process.GetCurrentProcess();
            double cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
            long blocks = size / (16 * 1024);
            double mibps = size / (1024.0 * 1024.0) / clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run} | {clock.Elapsed.TotalSeconds:F2} | {mibps:F1} | {cpu:F2} | {allocated / 1048576.0:F1} MiB | {(double)allocated / blocks:F0} | {steadyPerBlock:F0} | " +
                $"{GC.CollectionCount(0) - gcBefore[0]}/{GC.CollectionCount(1) - gcBefore[1]}/{GC.CollectionCount(2) - gcBefore[2]} | {self.PeakWorkingSet64 / 1048576.0:F0} |"));
        }
        if (sampler is not null)
        {
            Console.WriteLine();
            Console.WriteLine("Allocation samples over all runs (about one per 100 KB allocated):");
            foreach ((string type, long bytes) in sampler.Top(15)) Console.WriteLine($"  {bytes / 1048576.0,8:F1} MiB  {type}");
        }
        return 0;
    }
}
