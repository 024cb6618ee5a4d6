using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Bench.Recheck;

/// <summary>
/// How fast a full data check runs (<see cref="TorrentStorage.CheckExistingAsync(ResumeData?, IProgress{int}?, CancellationToken)"/>
/// with no resume data) over a file in the page cache, against this machine's single-core SHA-1 rate measured
/// in the same run: disk speed is left out, so the ratio shows how much of the hashing speed the check keeps.
/// </summary>
internal static class RecheckBenchmark
{
    public const string Usage = "recheck [--size 2GiB] [--piece-size 1MiB] [--runs 2] [--work DIR]";

    private const long Sha1Bytes = 1L << 30;
    private const int Sha1Chunk = 1 << 20;
    private const int Sha1Buffer = 64 << 20; // cycled: larger than the caches, like hashing page-cache data

    public static async Task<int> RunAsync(string[] args)
    {
        long size = 2L << 30;
        int pieceSize = 1 << 20;
        int runs = 2;
        string? work = null;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--size": size = ByteSize.Parse(value); i++; break;
                case "--piece-size": pieceSize = checked((int)ByteSize.Parse(value)); i++; break;
                case "--runs": runs = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r > 0 ? r : throw new BenchUsageException("--runs: a positive number"); i++; break;
                case "--work": work = value; i++; break;
                default: throw new BenchUsageException($"recheck: unknown option {args[i]}");
            }
        }

        var inv = CultureInfo.InvariantCulture;
        string root = work ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-recheck-{size}");
        string file = Path.Combine(root, "payload.bin");
        await EnsurePayloadAsync(file, size).ConfigureAwait(false);

        double sha1 = MeasureSha1();

        // Creating the torrent reads (and hashes) the whole file once: that also puts it in the page cache.
        var warm = Stopwatch.StartNew();
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = pieceSize }).ConfigureAwait(false);
        warm.Stop();
        StorageLayout layout = StorageLayout.FromTorrent(torrent);

        Console.WriteLine(string.Create(inv, $"### recheck: {ByteSize.Format(size)} in {torrent.PieceCount} pieces of {ByteSize.Format(pieceSize)}, file in the page cache"));
        Console.WriteLine();
        Console.WriteLine($"- command: `recheck {string.Join(' ', args)}`");
        Console.WriteLine(string.Create(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}"));
        Console.WriteLine(string.Create(inv,
            $"- one core's SHA-1 (SHA1.HashData, 1 GiB in 1 MiB chunks from a 64 MiB buffer): {sha1:0} MB/s; warming read (TorrentCreator, one thread): {size / 1e6 / warm.Elapsed.TotalSeconds:0} MB/s"));
        Console.WriteLine("- check = TorrentStorage.CheckExistingAsync(null, ...) on a fresh storage; MB = 10^6 bytes");
        Console.WriteLine();
        Console.WriteLine("| disk concurrency | run | seconds | MB/s | vs one core's SHA-1 | process CPU s | pieces verified |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");

        bool allVerified = true;
        foreach ((string label, int concurrency) in ((string, int)[])[($"default ({DefaultDiskConcurrency()})", 0), ("1", 1)])
        {
            for (int run = 1; run <= runs; run++)
            {
                await using DiskService disk = concurrency == 0 ? new DiskService() : new DiskService(concurrency: 1);
                await using TorrentStorage storage = TorrentStorage.Create(disk, layout, root);
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                Shoal.BitField have = await storage.CheckExistingAsync(null, null).ConfigureAwait(false);
                clock.Stop();
                double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                double mbps = size / 1e6 / clock.Elapsed.TotalSeconds;
                allVerified &= have.AllSet;
                Console.WriteLine(string.Create(inv,
                    $"| {label} | {run} | {clock.Elapsed.TotalSeconds:0.00} | {mbps:0} | {mbps / sha1:P0} | {cpu:0.00} | {have.SetCount} / {have.Length} |"));
            }
        }
        if (!allVerified) throw new BenchFailedException("the check did not verify every piece of an intact file");
        return 0;
    }

    private static int DefaultDiskConcurrency()
    {
        var disk = new DiskService();
        int n = disk.Concurrency;
        disk.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return n;
    }

    /// <summary>MB/s (10^6 bytes) of SHA-1 on one thread over in-memory data.</summary>
    private static double MeasureSha1()
    {
        byte[] data = new byte[Sha1Buffer];
        new Random(7).NextBytes(data);
        Span<byte> digest = stackalloc byte[SHA1.HashSizeInBytes];
        for (int offset = 0; offset < data.Length; offset += Sha1Chunk) SHA1.HashData(data.AsSpan(offset, Sha1Chunk), digest); // warm-up
        var clock = Stopwatch.StartNew();
        for (long done = 0; done < Sha1Bytes; done += Sha1Chunk)
        {
            SHA1.HashData(data.AsSpan((int)(done % Sha1Buffer), Sha1Chunk), digest);
        }
        clock.Stop();
        return Sha1Bytes / 1e6 / clock.Elapsed.TotalSeconds;
    }

    private static async Task EnsurePayloadAsync(string file, long size)
    {
        if (File.Exists(file) && new FileInfo(file).Length == size) return;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        Console.Error.WriteLine($"writing {size} bytes of random data to {file}...");
        await using FileStream output = File.Create(file);
        byte[] chunk = new byte[1 << 20];
        var random = new Random(20240603);
        for (long written = 0; written < size; written += chunk.Length)
        {
            random.NextBytes(chunk);
            await output.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - written))).ConfigureAwait(false);
        }
    }
}
