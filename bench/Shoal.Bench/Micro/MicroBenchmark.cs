using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Shoal.Bench.Micro;

/// <summary>
/// The engine's hot paths alone, measured with BenchmarkDotNet in this process (InProcess toolchain: no child
/// project is built) with its memory diagnoser: bencode and metainfo parsing, PIECE framing and parsing, SHA-1 piece
/// verification, and the piece picker. BenchmarkDotNet's own log goes to stderr; stdout gets one markdown table
/// with time per operation, MB/s where bytes flow, and bytes allocated per operation.
/// </summary>
internal static class MicroBenchmark
{
    public const string Usage = MicroOptions.Usage;

    /// <summary>Every benchmark class with the name <c>--filter</c> knows its group by, in report order.</summary>
    private static readonly (string Group, Type Type)[] Benchmarks =
    [
        ("bencode", typeof(BencodeBenchmarks)),
        ("wire", typeof(WireBenchmarks)),
        ("encryption", typeof(EncryptionBenchmarks)),
        ("storage", typeof(StorageBenchmarks)),
        ("storage", typeof(QueuedWriteBenchmarks)),
        ("picker", typeof(PickerDownloadBenchmarks)),
        ("picker", typeof(PickerRegisterBenchmarks)),
    ];

    public static Task<int> RunAsync(string[] args)
    {
        MicroOptions options = MicroOptions.Parse(args);
        string command = $"micro {string.Join(' ', args)}".TrimEnd();
        IReadOnlyList<BenchmarkReport> reports = Measure(options);
        Console.WriteLine(Render(reports, options, command));
        return Task.FromResult(0);
    }

    public static IReadOnlyList<BenchmarkReport> Measure(MicroOptions options)
    {
        Type[] types = [.. Benchmarks.Select(b => b.Type)];
        string artifacts = Path.Combine(Path.GetTempPath(), $"shoal-bench-micro-{Environment.ProcessId}-artifacts");
        IConfig config = ManualConfig.CreateEmpty()
            .AddJob(CreateJob(options.Quick))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(new StandardErrorLogger())
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddFilter(new SimpleFilter(c => options.Filters.Count == 0 || options.Filters.Any(f => Matches(c, f))))
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableLogFile);

        try
        {
            Summary[] summaries = BenchmarkRunner.Run(types, config);
            var reports = new List<BenchmarkReport>();
            foreach (Summary summary in summaries)
            {
                if (summary.HasCriticalValidationErrors)
                    throw new BenchFailedException("BenchmarkDotNet refused to run: " + string.Join("; ", summary.ValidationErrors.Select(e => e.Message)));
                reports.AddRange(summary.Reports);
            }
            if (reports.Count == 0) throw new BenchUsageException($"micro: --filter {string.Join(',', options.Filters)} matches no benchmark");
            BenchmarkReport? failed = reports.FirstOrDefault(r => !r.Success || r.ResultStatistics is null);
            if (failed is not null) throw new BenchFailedException($"{FullName(failed.BenchmarkCase)} failed (its output is above, on stderr)");
            return reports;
        }
        finally
        {
            if (Directory.Exists(artifacts)) Directory.Delete(artifacts, recursive: true);
        }
    }

    /// <summary>
    /// Full: 3 warm-ups and 15 iterations of 250 ms each (the picker's download: one download per iteration), about
    /// 2 minutes for everything on 2 cores. Quick: 1 warm-up and 3 iterations of 100 ms, about 30 seconds.
    /// </summary>
    private static Job CreateJob(bool quick)
    {
        Job job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1);
        return quick
            ? job.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(100)).WithId("quick")
            : job.WithWarmupCount(3).WithIterationCount(15).WithIterationTime(TimeInterval.FromMilliseconds(250)).WithId("full");
    }

    private static bool Matches(BenchmarkCase c, string filter) =>
        Benchmarks.Any(b => b.Type == c.Descriptor.Type && b.Group.Equals(filter, StringComparison.OrdinalIgnoreCase))
        || FullName(c).Contains(filter, StringComparison.OrdinalIgnoreCase);

    private static string FullName(BenchmarkCase c) => c.Descriptor.Type.Name + "." + c.Descriptor.WorkloadMethod.Name;

    public static string Render(IReadOnlyList<BenchmarkReport> reports, MicroOptions options, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("### micro: the engine's hot paths (BenchmarkDotNet, in process)");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `dotnet run -c Release --project bench/Shoal.Bench -- {command}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}");
        md.AppendLine(inv, $"- machine: {Environment.ProcessorCount} cores, {Machine.CpuModel()}, {Machine.MemoryTotal()}, {Machine.Kernel()}; {RuntimeInformation.FrameworkDescription}; load average after: {Machine.LoadAverage()}");
        string iterations = options.Quick ? "quick: 1 warm-up, 3 iterations of 100 ms" : "3 warm-ups, 15 iterations of 250 ms";
        md.AppendLine(inv, $"- BenchmarkDotNet {typeof(BenchmarkRunner).Assembly.GetName().Version?.ToString(3)}, InProcess toolchain, {iterations}; " +
            $"time is the median of the iterations, with the fastest and slowest beside it (the machine is shared: the median resists noise); " +
            $"MB/s from the median, MB = 10^6 bytes; allocated is per operation (memory diagnoser)");
        md.AppendLine();
        md.AppendLine("| benchmark | one operation | time / op (median) | min - max | MB/s | allocated / op | derived |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | --- |");
        foreach (BenchmarkReport report in reports)
        {
            Row row = Describe(report.BenchmarkCase);
            BenchmarkDotNet.Mathematics.Statistics stats = report.ResultStatistics!;
            double ns = stats.Median;
            string rate = row.BytesPerOperation is long bytes ? (bytes / ns * 1e3).ToString("N0", inv) : "";
            long? allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            string derived = row.Derive?.Invoke(ns) ?? "";
            md.AppendLine(inv, $"| {row.Name} | {row.Operation} | {Time(ns)} | {Time(stats.Min)} - {Time(stats.Max)} | {rate} | {(allocated is long a ? Bytes(a) : "n/a")} | {derived} |");
        }
        return md.ToString();
    }

    private sealed record Row(string Name, string Operation, long? BytesPerOperation, Func<double, string>? Derive = null);

    private static Row Describe(BenchmarkCase c)
    {
        var inv = CultureInfo.InvariantCulture;
        string method = c.Descriptor.WorkloadMethod.Name;
        switch (c.Descriptor.Type.Name, method)
        {
            case (nameof(BencodeBenchmarks), _):
            {
                var shape = (TorrentShape)c.Parameters["Shape"];
                long size = BencodeBenchmarks.BytesPerOperation(shape);
                string what = shape == TorrentShape.SingleFile
                    ? string.Create(inv, $"1 file, {TorrentInputs.SingleFileSize / TorrentInputs.SingleFilePieceLength:N0} pieces")
                    : string.Create(inv, $"{TorrentInputs.MultiFileCount:N0} files");
                return method == nameof(BencodeBenchmarks.Decode)
                    ? new Row($"bencode: `Bencode.Decode`, {what}", string.Create(inv, $"decode a {size:N0}-byte .torrent"), size,
                        shape == TorrentShape.SingleFile ? _ => "the 1 MB 'pieces' string is sliced, not copied" : null)
                    : new Row($"metainfo: `Torrent.Parse`, {what}", string.Create(inv, $"load a {size:N0}-byte .torrent (+ info-hash)"), size);
            }
            case (nameof(WireBenchmarks), nameof(WireBenchmarks.Parse)):
                return new Row("wire: `PeerMessageReader.TryRead`", "parse one 16 KiB PIECE (32 KiB segments)", WireBenchmarks.BytesPerOperation,
                    _ => "the block is sliced, not read");
            case (nameof(WireBenchmarks), _):
                return new Row("wire: frame + pipe + parse", "write, flush, parse, copy out one 16 KiB PIECE", WireBenchmarks.BytesPerOperation);
            case (nameof(EncryptionBenchmarks), nameof(EncryptionBenchmarks.Rc4)):
                return new Row("encryption: `Rc4Cipher.Apply` (MSE/PE)", "RC4 over one 32 KiB pipe segment, in place", EncryptionBenchmarks.SegmentBytes,
                    ns => string.Create(inv, $"1 GiB: {ns * (1 << 30) / EncryptionBenchmarks.SegmentBytes / 1e9:0.00} s of one core per direction"));
            case (nameof(EncryptionBenchmarks), _):
                return new Row("encryption: frame + RC4 + pipe + RC4 + parse", "the wire row through an encrypted connection's filters", WireBenchmarks.BytesPerOperation);
            case (nameof(StorageBenchmarks), _):
            {
                int pieceLength = (int)c.Parameters["PieceLength"];
                int pieces = (int)(StorageBenchmarks.TorrentSize / pieceLength);
                string piece = pieceLength >= 1 << 20 ? $"{pieceLength >> 20} MiB" : $"{pieceLength >> 10} KiB";
                string name = method == nameof(StorageBenchmarks.VerifyDownloadedPiece)
                    ? $"storage: `WriteBlockAsync` verify, {piece} pieces"
                    : $"storage: `SHA1.HashData` (recheck), {piece} pieces";
                string operation = method == nameof(StorageBenchmarks.VerifyDownloadedPiece)
                    ? $"{pieceLength / Picking.PiecePicker.BlockLength} blocks in: copy, SHA-1, compare"
                    : "SHA-1 of one piece, compare";
                return new Row(name, operation, pieceLength, ns => string.Create(inv, $"1 GiB ({pieces:N0} pieces): {ns * pieces / 1e9:0.00} s"));
            }
            case (nameof(PickerDownloadBenchmarks), _):
            {
                long calls = PickerDownloadBenchmarks.PickCallsPerDownload();
                return new Row("picker: whole download, 1,000 peers x 10,000 pieces", "one block: received, verified, slot refilled", null,
                    ns => string.Create(inv, $"{calls:N0} `PickBlocks` calls: {ns * PickerSwarm.Blocks / calls:N0} ns each; download {ns * PickerSwarm.Blocks / 1e6:N0} ms"));
            }
            case (nameof(PickerRegisterBenchmarks), _):
                return new Row("picker: `AddPeer` + `RemovePeer`", "a 10,000-piece bitfield (half set) among 1,000 peers", null);
            default:
                return new Row(FullName(c), "", null);
        }
    }

    private static string Time(double ns) => ns switch
    {
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.00} ms"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e3:0.00} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ns:0.0} ns"),
    };

    private static string Bytes(long bytes) => bytes switch
    {
        >= 10 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:N0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
