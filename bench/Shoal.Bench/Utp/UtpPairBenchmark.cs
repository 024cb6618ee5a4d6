using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Shoal.Transport;
using Shoal.Transport.Utp;

namespace Shoal.Bench.Utp;

/// <summary>
/// A uTP pair over loopback: Shoal's two <see cref="UtpMultiplexer"/>s in this process moving N bytes one way, next to
/// libtorrent's uTP pair (two sessions in one python process, lt_pair.py) in the same run; each stack also over TCP,
/// so its uTP cost per GiB stands out from what the rest of the path costs. Throughput is wall time from dial to the
/// last byte; CPU is user+system seconds of the process holding both ends, per GiB moved.
/// </summary>
/// <remarks>
/// The two stacks do not do the same work around the transport: Shoal's pair is the raw transport (bytes from a
/// buffer to a pipe); libtorrent's runs its whole peer-wire path (BitTorrent messages, piece bookkeeping, data to and
/// from the page cache through its disk threads), with hash checks off. The TCP rows show what that path costs each.
/// </remarks>
internal static class UtpPairBenchmark
{
    public const string Usage = "utp [--size 1GiB] [--runs 3] [--no-libtorrent]   (uTP pair on loopback, Shoal and libtorrent, uTP and TCP)";

    private sealed record Options(long Size, int Runs, bool Libtorrent);

    private sealed record Row(string Stack, string Transport, double Seconds, double CpuSeconds, string Note, long? Allocated = null);

    public static async Task<int> RunAsync(string[] args)
    {
        Options options = Parse(args);
        Workspace? workspace = null;
        string? problem = null;
        if (options.Libtorrent)
        {
            try
            {
                workspace = Workspace.Find();
            }
            catch (BenchFailedException ex)
            {
                problem = ex.Message;
            }
        }

        Console.Error.WriteLine("[utp] warming up...");
        await ShoalUtpAsync(32L << 20);
        await ShoalTcpAsync(32L << 20);

        var rows = new List<Row>();
        for (int run = 1; run <= options.Runs; run++)
        {
            Console.Error.WriteLine($"[utp] run {run}/{options.Runs}");
            rows.Add(await ShoalUtpAsync(options.Size));
            rows.Add(await ShoalTcpAsync(options.Size));
            if (workspace is not null)
            {
                rows.Add(await LibtorrentAsync(workspace, "utp", options.Size));
                rows.Add(await LibtorrentAsync(workspace, "tcp", options.Size));
            }
        }
        Console.WriteLine(Render(rows, options, workspace?.LibtorrentVersion ?? (options.Libtorrent ? "unavailable: " + problem : "not run"),
            $"utp {string.Join(' ', args)}".TrimEnd()));
        return 0;
    }

    private static Options Parse(string[] args)
    {
        var options = new Options(1L << 30, 3, true);
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--no-libtorrent":
                    options = options with { Libtorrent = false };
                    break;
                case "--size" when i + 1 < args.Length:
                    options = options with { Size = ByteSize.Parse(args[++i]) };
                    break;
                case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int runs) && runs is > 0 and <= 20:
                    options = options with { Runs = runs };
                    i++;
                    break;
                default:
                    throw new BenchUsageException($"utp: unknown or incomplete option {args[i]}");
            }
        }
        if (options.Size < (1L << 20)) throw new BenchUsageException("utp: --size must be at least 1 MiB");
        return options;
    }

    private static async Task<Row> ShoalUtpAsync(long size)
    {
        using var pool = new BlockMemoryPool();
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        await using UtpMultiplexer server = UtpMultiplexer.Bind(loopback, new UtpOptions { Memory = pool });
        await using UtpMultiplexer client = UtpMultiplexer.Bind(loopback, new UtpOptions { Memory = pool });
        var (seconds, cpu, allocated) = await MeasureAsync(async () =>
        {
            ValueTask<UtpTransport> accept = server.AcceptAsync();
            UtpTransport dialled = await client.ConnectAsync(server.LocalEndPoint);
            UtpTransport accepted = await accept;
            return (dialled, accepted);
        }, size);
        UtpConnectionStatistics stats = client.Statistics;
        UtpConnectionStatistics acks = server.Statistics;
        return new Row("Shoal", "uTP", seconds, cpu,
            $"{stats.PacketsSent:N0} packets and {acks.PacketsSent:N0} acks, {stats.FastRetransmissions} fast + {stats.TimeoutRetransmissions} timeout resends, " +
            $"{stats.SendFailures + acks.SendFailures} refused sends", allocated);
    }

    private static async Task<Row> ShoalTcpAsync(long size)
    {
        using var pool = new BlockMemoryPool();
        await using PeerListener listener = PeerListener.Start(new IPEndPoint(IPAddress.Loopback, 0), 16, pool);
        var (seconds, cpu, allocated) = await MeasureAsync(async () =>
        {
            ValueTask<SocketTransport> accept = listener.AcceptAsync(CancellationToken.None);
            SocketTransport dialled = await SocketTransport.ConnectAsync(listener.LocalEndPoint, TimeSpan.FromSeconds(10), pool, CancellationToken.None);
            SocketTransport accepted = await accept;
            return ((PeerTransport)dialled, (PeerTransport)accepted);
        }, size);
        return new Row("Shoal", "TCP", seconds, cpu, "", allocated);
    }

    /// <summary>Dials, then writes <paramref name="size"/> bytes (1 MiB of random data again and again) and reads them at the other end.</summary>
    private static async Task<(double Seconds, double Cpu, long Allocated)> MeasureAsync<T>(Func<Task<(T Dialled, T Accepted)>> connect, long size)
        where T : PeerTransport
    {
        byte[] chunk = new byte[1 << 20];
        new Random(29).NextBytes(chunk);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var (dialled, accepted) = await connect();
        Task<long> read = DrainAsync(accepted.Input);
        for (long written = 0; written < size;)
        {
            int n = (int)Math.Min(chunk.Length, size - written);
            FlushResult flush = await dialled.Output.WriteAsync(chunk.AsMemory(0, n));
            if (flush.IsCompleted) throw new BenchFailedException("the receiving end stopped reading");
            written += n;
        }
        await dialled.Output.CompleteAsync();
        long received = await read;
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        if (received != size) throw new BenchFailedException($"received {received} bytes of {size}");
        await accepted.DisposeAsync();
        await dialled.DisposeAsync();
        return (seconds, cpu, allocated);
    }

    private static async Task<long> DrainAsync(PipeReader input)
    {
        long total = 0;
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            total += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) return total;
        }
    }

    private static async Task<Row> LibtorrentAsync(Workspace workspace, string transport, long size)
    {
        string scratch = Directory.CreateTempSubdirectory("shoal-bench-utp-").FullName;
        try
        {
            var (code, output) = await Task.Run(() => Workspace.RunQuick(workspace.Python,
                [Path.Combine(workspace.Scripts, "lt_pair.py"), "--size", size.ToString(CultureInfo.InvariantCulture), "--dir", scratch,
                    "--transport", transport, "--timeout", "1200"], TimeSpan.FromMinutes(25), workspace.Root));
            string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
            if (code != 0 || line is null) throw new BenchFailedException($"lt_pair.py --transport {transport} failed ({code}): {output}");
            double Field(string name) => double.Parse(line.Split(' ').First(f => f.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..],
                CultureInfo.InvariantCulture);
            return new Row("libtorrent", transport == "utp" ? "uTP" : "TCP", Field("seconds"), Field("cpu"), "");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static string Render(List<Row> rows, Options options, string libtorrent, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"### utp: a uTP pair over loopback, {ByteSize.Format(options.Size)} one way, {options.Runs} run(s), medians");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}`; {Environment.ProcessorCount} cores; .NET {Environment.Version}; libtorrent {libtorrent}");
        md.AppendLine("- Shoal: two multiplexers (uTP) or a listener and a dialler (TCP) in the benchmark process, raw transport: bytes from a buffer to a pipe");
        md.AppendLine("- libtorrent: lt_pair.py, a seeder and a downloader session in one python process, uTP only or TCP only, seed mode, hash checks off (its BitTorrent path and page-cache I/O are included)");
        md.AppendLine("- MiB/s: bytes over the wall time from the dial to the last byte; CPU: user+system seconds of the process holding both ends, per GiB; allocated: managed bytes allocated per GiB (setup included)");
        md.AppendLine();
        md.AppendLine("| stack | transport | MiB/s | CPU s/GiB | allocated/GiB | runs (MiB/s) | notes (last run) |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | --- | --- |");
        double gib = options.Size / (double)(1L << 30);
        foreach (var group in rows.GroupBy(r => (r.Stack, r.Transport)))
        {
            double[] rates = [.. group.Select(r => options.Size / (double)(1 << 20) / r.Seconds).Order()];
            double[] cpus = [.. group.Select(r => r.CpuSeconds / gib).Order()];
            string allocated = group.Last().Allocated is { } bytes ? ByteSize.Format((long)(bytes / gib)) : "n/a";
            md.AppendLine(inv, $"| {group.Key.Stack} | {group.Key.Transport} | {Median(rates):0} | {Median(cpus):0.00} | {allocated} | " +
                $"{string.Join(", ", group.Select(r => (options.Size / (double)(1 << 20) / r.Seconds).ToString("0", inv)))} | {group.Last().Note} |");
        }
        return md.ToString();
    }

    private static double Median(double[] sorted) => sorted.Length == 0 ? double.NaN
        : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
