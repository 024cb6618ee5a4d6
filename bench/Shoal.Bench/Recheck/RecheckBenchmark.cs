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
    private const long Sha1Bytes = 1L << 30;
    private const int Sha1Chunk = 1 << 20;
    private const int Sha1Buffer = 64 << 20; // cycled: larger than the caches, like hashing page-cache data

    public static async Task<int> RunAsync(string[] args)
    {
        RecheckOutcome outcome = await MeasureAsync(RecheckOptions.Parse(args)).ConfigureAwait(false);
        Console.WriteLine(Render(outcome, $"recheck {string.Join(' ', args)}".TrimEnd()));
        if (!outcome.Succeeded) throw new BenchFailedException("the check did not verify every piece of an intact file");
        return 0;
    }

    /// <summary>One core's SHA-1 rate, then --runs checks with the default disk concurrency and --runs with one.</summary>
    public static async Task<RecheckOutcome> MeasureAsync(RecheckOptions options)
    {
        long size = options.Size;
        string root = options.Work ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-recheck-{size}");
        string file = Path.Combine(root, "payload.bin");
        await EnsurePayloadAsync(file, size).ConfigureAwait(false);

        double sha1 = MeasureSha1();

        // Creating the torrent reads (and hashes) the whole file once: that also puts it in the page cache.
        var warm = Stopwatch.StartNew();
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = options.PieceSize }).ConfigureAwait(false);
        warm.Stop();
        StorageLayout layout = StorageLayout.FromTorrent(torrent);
        var verifier = Sha1PieceVerifier.For(torrent);

        var rows = new List<RecheckOutcome.Row>();
        foreach ((string label, int concurrency) in ((string, int)[])[($"default ({DefaultDiskConcurrency()})", 0), ("1", 1)])
        {
            for (int run = 1; run <= options.Runs; run++)
            {
                await using DiskService disk = concurrency == 0 ? new DiskService() : new DiskService(concurrency: 1);
                await using TorrentStorage storage = TorrentStorage.Create(disk, layout, verifier, root);
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                Shoal.BitField have = await storage.CheckExistingAsync(null, null).ConfigureAwait(false);
                clock.Stop();
                double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                rows.Add(new RecheckOutcome.Row(label, concurrency, run, clock.Elapsed.TotalSeconds, size / 1e6 / clock.Elapsed.TotalSeconds, cpu, have.SetCount, have.Length));
            }
        }
        return new RecheckOutcome(options, torrent.PieceCount, sha1, size / 1e6 / warm.Elapsed.TotalSeconds, rows);
    }

    /// <summary>The markdown table with its header; <paramref name="command"/> is the verb and arguments that reproduce it.</summary>
    public static string Render(RecheckOutcome outcome, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new System.Text.StringBuilder();
        md.AppendLine(inv, $"### recheck: {ByteSize.Format(outcome.Options.Size)} in {outcome.PieceCount} pieces of {ByteSize.Format(outcome.Options.PieceSize)}, file in the page cache");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        md.AppendLine(inv,
            $"- one core's SHA-1 (SHA1.HashData, 1 GiB in 1 MiB chunks from a 64 MiB buffer): {outcome.Sha1MBps:0} MB/s; warming read (TorrentCreator, one thread): {outcome.WarmReadMBps:0} MB/s");
        md.AppendLine("- check = TorrentStorage.CheckExistingAsync(null, ...) on a fresh storage; MB = 10^6 bytes");
        md.AppendLine();
        md.AppendLine("| disk concurrency | run | seconds | MB/s | vs one core's SHA-1 | process CPU s | pieces verified |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (RecheckOutcome.Row r in outcome.Rows)
        {
            md.AppendLine(inv, $"| {r.Label} | {r.Run} | {r.Seconds:0.00} | {r.MBps:0} | {r.MBps / outcome.Sha1MBps:P0} | {r.CpuSeconds:0.00} | {r.PiecesVerified} / {r.Pieces} |");
        }
        return md.ToString();
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
