using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Bench.Recheck;

/// <summary>
/// How fast a full data check runs (<see cref="TorrentStorage.CheckExistingAsync(ResumeData?, IProgress{int}?, CancellationToken)"/>
/// with no resume data) over a file in the page cache, against this machine's single-core hash rate measured in the
/// same run: disk speed is left out, so the ratio shows how much of the hashing speed the check keeps. The torrent is v1
/// (SHA-1 pieces: against SHA-1), v2 (BEP 52 merkle trees, 16 KiB SHA-256 leaves: against SHA-256 over 16 KiB blocks) or
/// hybrid (both over every byte: against one core doing both).
/// </summary>
internal static class RecheckBenchmark
{
    private const long Sha1Bytes = 1L << 30;
    private const int Sha1Chunk = 1 << 20;
    private const int Sha1Buffer = 64 << 20; // cycled: larger than the caches, like hashing page-cache data
    private const int MerkleBlock = 16 << 10; // BEP 52 leaves: SHA-256 runs over 16 KiB at a time

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

        double sha1 = options.Version == TorrentVersion.V2 ? double.NaN : MeasureHash(static (data, digest) => SHA1.HashData(data, digest), Sha1Chunk);
        double sha256 = options.Version == TorrentVersion.V1 ? double.NaN : MeasureHash(static (data, digest) => SHA256.HashData(data, digest), MerkleBlock);

        // Creating the torrent reads (and hashes) the whole file once: that also puts it in the page cache.
        var warm = Stopwatch.StartNew();
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = options.PieceSize, Version = options.Version })
            .ConfigureAwait(false);
        warm.Stop();
        StorageLayout layout = StorageLayout.FromTorrent(torrent);

        var rows = new List<RecheckOutcome.Row>();
        foreach ((string label, int concurrency) in ((string, int)[])[($"default ({DefaultDiskConcurrency()})", 0), ("1", 1)])
        {
            for (int run = 1; run <= options.Runs; run++)
            {
                await using DiskService disk = concurrency == 0 ? new DiskService() : new DiskService(concurrency: 1);
                // A fresh verifier each run, as a fresh start has (a v2 one keeps what it learned: the block hashes of verified pieces).
                await using TorrentStorage storage = TorrentStorage.Create(disk, layout, PieceVerifiers.For(torrent), root);
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                Shoal.BitField have = await storage.CheckExistingAsync(null, null).ConfigureAwait(false);
                clock.Stop();
                double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                rows.Add(new RecheckOutcome.Row(label, concurrency, run, clock.Elapsed.TotalSeconds, size / 1e6 / clock.Elapsed.TotalSeconds, cpu, have.SetCount, have.Length));
            }
        }
        return new RecheckOutcome(options, torrent.PieceCount, sha1, size / 1e6 / warm.Elapsed.TotalSeconds, rows, sha256);
    }

    /// <summary>The markdown table with its header; <paramref name="command"/> is the verb and arguments that reproduce it.</summary>
    public static string Render(RecheckOutcome outcome, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new System.Text.StringBuilder();
        string kind = outcome.Options.Version == TorrentVersion.V1 ? "" : $"{RecheckOptions.VersionName(outcome.Options.Version)} torrent, ";
        md.AppendLine(inv, $"### recheck: {kind}{ByteSize.Format(outcome.Options.Size)} in {outcome.PieceCount} pieces of {ByteSize.Format(outcome.Options.PieceSize)}, file in the page cache");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        md.AppendLine(inv, $"- machine load average when the table was written (1, 5, 15 min): {Machine.LoadAverage()}");
        if (!double.IsNaN(outcome.Sha1MBps)) md.AppendLine(inv, $"- one core's SHA-1 (SHA1.HashData, 1 GiB in 1 MiB chunks from a 64 MiB buffer): {outcome.Sha1MBps:0} MB/s");
        if (!double.IsNaN(outcome.Sha256MBps)) md.AppendLine(inv, $"- one core's SHA-256 (SHA256.HashData, 1 GiB in 16 KiB blocks, the BEP 52 leaves, from a 64 MiB buffer): {outcome.Sha256MBps:0} MB/s");
        if (outcome.Options.Version == TorrentVersion.Hybrid) md.AppendLine(inv, $"- one core doing both over every byte: {outcome.ReferenceMBps:0} MB/s");
        md.AppendLine(inv, $"- warming read (TorrentCreator, one thread): {outcome.WarmReadMBps:0} MB/s");
        md.AppendLine("- check = TorrentStorage.CheckExistingAsync(null, ...) on a fresh storage; MB = 10^6 bytes");
        md.AppendLine();
        md.AppendLine(inv, $"| disk concurrency | run | seconds | MB/s | vs {outcome.ReferenceName} | process CPU s | pieces verified |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (RecheckOutcome.Row r in outcome.Rows)
        {
            md.AppendLine(inv, $"| {r.Label} | {r.Run} | {r.Seconds:0.00} | {r.MBps:0} | {r.MBps / outcome.ReferenceMBps:P0} | {r.CpuSeconds:0.00} | {r.PiecesVerified} / {r.Pieces} |");
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

    /// <summary>A one-shot hash of a span into a digest buffer (SHA1.HashData, SHA256.HashData).</summary>
    private delegate int OneShotHash(ReadOnlySpan<byte> data, Span<byte> digest);

    /// <summary>MB/s (10^6 bytes) of <paramref name="hash"/> on one thread over in-memory data, in <paramref name="chunk"/>-byte calls.</summary>
    private static double MeasureHash(OneShotHash hash, int chunk)
    {
        byte[] data = new byte[Sha1Buffer];
        new Random(7).NextBytes(data);
        Span<byte> digest = stackalloc byte[64];
        for (int offset = 0; offset < data.Length; offset += chunk) hash(data.AsSpan(offset, chunk), digest); // warm-up
        var clock = Stopwatch.StartNew();
        for (long done = 0; done < Sha1Bytes; done += chunk)
        {
            hash(data.AsSpan((int)(done % Sha1Buffer), chunk), digest);
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
