using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Shoal.Bench;

/// <summary>
/// One seeder and one leecher as separate processes on loopback: libtorrent (python3-libtorrent scripts
/// from the interop tests) and/or the shoal CLI, in every combination.
/// </summary>
internal static class PairBenchmark
{
    internal const string PayloadName = "payload.bin";

    public static async Task<int> RunAsync(PairOptions options)
    {
        var workspace = Workspace.Find();
        var needsShoal = options.Scenarios.Any(s => s.Contains("shoal", StringComparison.Ordinal));
        var shoalDll = needsShoal ? workspace.ResolveShoal(options.ShoalDll, options.Build) : null;
        var outcome = await MeasureAsync(options, workspace, shoalDll).ConfigureAwait(false);

        var commandLine = "dotnet run -c Release --project bench/Shoal.Bench -- " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        var markdown = ResultTable.Render(options, workspace, commandLine, outcome);
        Console.WriteLine(markdown);
        if (options.OutFile is not null)
        {
            await File.WriteAllTextAsync(options.OutFile, markdown).ConfigureAwait(false);
            Console.Error.WriteLine($"written to {options.OutFile}");
        }
        return outcome.Succeeded ? 0 : 1;
    }

    /// <summary>
    /// Every run of every scenario, runs interleaved (run 1 of each scenario, then run 2...); a run that fails is
    /// recorded with its reason and the others go on. <paramref name="shoalDll"/> is needed when a scenario has a
    /// shoal side.
    /// </summary>
    public static async Task<PairOutcome> MeasureAsync(PairOptions options, Workspace workspace, string? shoalDll)
    {
        var useTime = Workspace.HasGnuTime;
        if (!useTime) Console.Error.WriteLine("note: /usr/bin/time missing (apt-get install time); leecher CPU and RSS come from /proc sampling");

        var work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"shoal-bench-{options.Size}-{options.Seed}");
        var seedRoot = Path.Combine(work, "seed");
        var payload = Path.Combine(seedRoot, PayloadName);
        var torrent = Path.Combine(work, $"payload-{options.PieceSize}.torrent");
        Directory.CreateDirectory(seedRoot);
        var sourceHash = EnsurePayload(payload, options.Size, options.Seed);
        await MakeTorrentAsync(workspace, payload, torrent, options.PieceSize).ConfigureAwait(false);
        var pieceLength = await ReadPieceLengthAsync(workspace, torrent).ConfigureAwait(false);

        var results = new List<PairResult>();
        var failures = new List<string>();
        using LinkNamespace? link = options.LinkMbit > 0 ? LinkNamespace.Create(options.LinkMbit) : null;
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var scenario in options.Scenarios)
            {
                Console.Error.WriteLine($"[{scenario} run {run}/{options.Runs}] {ByteSize.Format(options.Size)}...");
                try
                {
                    var result = await RunPairAsync(workspace, options, shoalDll, useTime, scenario, run, work, seedRoot, torrent, sourceHash, link).ConfigureAwait(false);
                    results.Add(result);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {result.WallSeconds:0.00} s, {result.MiBPerSecond:0.0} MiB/s, CPU leecher {result.LeecherCpuSeconds:0.00} s / seeder {result.SeederCpuSeconds:0.00} s, data {(result.Verified ? "identical" : "DIFFERS")}"));
                }
                catch (BenchFailedException error)
                {
                    Console.Error.WriteLine($"  FAILED: {error.Message}");
                    failures.Add($"{scenario} run {run}: {error.Message.Split('\n')[0].Replace('|', '/')}");
                }
            }
        }
        return new PairOutcome(results, failures, pieceLength);
    }

    private static async Task<PairResult> RunPairAsync(Workspace workspace, PairOptions options, string? shoalDll, bool useTime,
        string scenario, int run, string work, string seedRoot, string torrent, byte[] sourceHash, LinkNamespace? link)
    {
        var (seederKind, leecherKind) = (scenario.Split('-')[0], scenario.Split('-')[1]);
        var download = Path.Combine(work, "download");
        if (Directory.Exists(download)) Directory.Delete(download, recursive: true);
        // Start every run from clean caches: libtorrent leaves its download in dirty pages (it never fsyncs), and the
        // next run paid for them (the leecher after a libtorrent leecher used 1.5-2x the system time), which always
        // fell on Shoal in the interleaved order.
        Workspace.SyncFileSystems();
        Directory.CreateDirectory(download);
        var timeFile = Path.Combine(work, "leecher.time");
        File.Delete(timeFile);
        if (leecherKind == "tr")
        {
            return await TransmissionPair.RunAsync(workspace, options, shoalDll, useTime, scenario, run, work, seedRoot, torrent, sourceHash,
                download, timeFile).ConfigureAwait(false);
        }

        using var seeder = await StartSeederAsync(workspace, shoalDll, seederKind, seedRoot, torrent, options.Timeout, options.Rc4, link: link, utp: options.Utp).ConfigureAwait(false);
        var (seederProcess, port) = seeder.Value;
        var seederPid = seederProcess.WorkerPid;
        var seederCpuBefore = BenchProcess.Sample(seederPid)?.CpuSeconds ?? 0;

        string file;
        List<string> arguments;
        if (leecherKind == "lt")
        {
            file = workspace.Python;
            arguments = [Path.Combine(workspace.Scripts, "lt_get.py"), "--torrent", torrent, "--save-path", download,
                "--peer", $"127.0.0.1:{port}", "--timeout", ((int)options.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture), "--quiet",
                "--encryption", options.LibtorrentEncryption, "--transport", options.LibtorrentTransport];
        }
        else
        {
            (file, var shoalArguments) = Workspace.ShoalCommand(shoalDll!, ["get", torrent, "-o", download, "--peer", $"127.0.0.1:{port}", "--port", "0",
                "--exit-when-done", "--quiet", "--no-dht", "--no-lsd", "--no-port-mapping", .. options.ShoalEncryption, .. options.ShoalTransport,
                .. options.ShoalArguments]);
            arguments = [.. shoalArguments];
        }

        if (link is not null) (file, arguments) = link.Wrap(file, arguments);
        var clock = Stopwatch.StartNew();
        using var leecher = BenchProcess.Start($"{leecherKind} leecher", file, arguments, useTime ? timeFile : null);
        leecher.CloseStandardInput();
        // Poll while it runs: the fallback numbers when GNU time is missing, and the seeder's peak.
        double leecherCpu = 0;
        long leecherRss = 0, leecherAnon = 0, seederAnon = 0;
        var exited = leecher.WaitForExitAsync(options.Timeout);
        while (!exited.IsCompleted)
        {
            if (BenchProcess.Sample(leecher.WorkerPid) is { } sample)
            {
                (leecherCpu, leecherRss) = (sample.CpuSeconds, Math.Max(leecherRss, sample.PeakRssBytes));
                leecherAnon = Math.Max(leecherAnon, sample.AnonRssBytes);
            }
            if (BenchProcess.Sample(seederPid) is { } seederNow) seederAnon = Math.Max(seederAnon, seederNow.AnonRssBytes);
            await Task.WhenAny(exited, Task.Delay(100)).ConfigureAwait(false);
        }
        var exitCode = await exited.ConfigureAwait(false);
        var wall = clock.Elapsed.TotalSeconds;
        var seederSample = BenchProcess.Sample(seederPid);
        if (exitCode != 0) throw new BenchFailedException($"{leecherKind} leecher exited with {exitCode}\n{leecher.Tail()}\nseeder:\n{seederProcess.Tail()}");
        double leecherSystem = double.NaN;
        if (leecher.TimeReport() is { } report) (leecherCpu, leecherSystem, leecherRss) = (report.Cpu, report.System, report.PeakRss);

        var downloaded = Path.Combine(download, PayloadName);
        var verified = File.Exists(downloaded) && Sha256(downloaded).AsSpan().SequenceEqual(sourceHash);
        return new PairResult(scenario, run, new FileInfo(Path.Combine(seedRoot, PayloadName)).Length, wall, leecherCpu,
            (seederSample?.CpuSeconds ?? 0) - seederCpuBefore, leecherRss, seederSample?.PeakRssBytes ?? 0,
            leecherAnon, Math.Max(seederAnon, seederSample?.AnonRssBytes ?? 0), verified, leecherSystem);
    }

    /// <summary>A running seeder that has finished checking its data, stopped cleanly on dispose.</summary>
    internal sealed class Seeder((BenchProcess Process, int Port) value) : IDisposable
    {
        public (BenchProcess Process, int Port) Value { get; } = value;

        public void Dispose()
        {
            var process = Value.Process;
            // libtorrent's script stops when stdin closes; shoal stops on SIGTERM.
            process.CloseStandardInput();
            process.Terminate();
            try
            {
                process.WaitForExitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
            }
            catch (BenchFailedException)
            {
            }
            process.Dispose();
        }
    }

    /// <summary>
    /// Starts a seeder and waits until it has checked its data. <paramref name="dialPeer"/>: an address the seeder
    /// connects to (for leechers that do not dial, like transmission-cli); <paramref name="started"/> sees the
    /// process as soon as it runs.
    /// </summary>
    internal static async Task<Seeder> StartSeederAsync(Workspace workspace, string? shoalDll, string kind, string seedRoot, string torrent, TimeSpan timeout,
        bool rc4, string? dialPeer = null, Action<BenchProcess>? started = null, LinkNamespace? link = null, bool utp = false)
    {
        (string File, List<string> Arguments) Place(string file, List<string> arguments) => link is null ? (file, arguments) : link.Wrap(file, arguments);
        if (kind == "lt")
        {
            List<string> ltArguments = [Path.Combine(workspace.Scripts, "lt_seed.py"), "--torrent", torrent, "--save-path", seedRoot, "--quiet", "--timeout", "7200",
                "--encryption", rc4 ? "forced" : "plaintext", "--transport", utp ? "utp" : "tcp"];
            if (dialPeer is not null) ltArguments.AddRange(["--peer", dialPeer]);
            (string ltFile, List<string> ltCommand) = Place(workspace.Python, ltArguments);
            var lt = BenchProcess.Start("lt seeder", ltFile, ltCommand, null);
            started?.Invoke(lt);
            try
            {
                var ready = await lt.WaitForLineAsync(l => l.StartsWith("READY ", StringComparison.Ordinal), timeout, "READY").ConfigureAwait(false);
                return new Seeder((lt, int.Parse(ready.AsSpan(6), CultureInfo.InvariantCulture)));
            }
            catch
            {
                lt.Dispose();
                throw;
            }
        }

        var port = FreePort();
        List<string> shoalArguments = ["share", Path.Combine(seedRoot, PayloadName), "--torrent", torrent, "--port", port.ToString(CultureInfo.InvariantCulture),
             "--bind", "127.0.0.1", "--json", "--no-dht", "--no-lsd", "--encryption", rc4 ? "require" : "disable", utp ? "--utp-only" : "--no-utp"];
        // No discovery, as in the libtorrent scripts: the peers are dialled directly, and local discovery would let
        // other processes on the machine that share the torrent (an earlier run, another benchmark) join in.
        if (dialPeer is not null) shoalArguments.AddRange(["--peer", dialPeer]);
        (string shoalFile, string[] shoalCommand) = Workspace.ShoalCommand(shoalDll!, [.. shoalArguments]);
        (shoalFile, List<string> placed) = Place(shoalFile, [.. shoalCommand]);
        var shoal = BenchProcess.Start("shoal seeder", shoalFile, placed, null);
        started?.Invoke(shoal);
        try
        {
            // Wait for the data check to end so the leecher's clock does not include the seeder's hashing.
            await shoal.WaitForLineAsync(IsSeedingJson, timeout, "a --json line with state \"seeding\"").ConfigureAwait(false);
            return new Seeder((shoal, port));
        }
        catch
        {
            shoal.Dispose();
            throw;
        }
    }

    private static bool IsSeedingJson(string line)
    {
        if (!line.StartsWith('{')) return false;
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.String && state.GetString() == "seeding";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Writes the payload once per (size, seed) and returns its SHA-256.</summary>
    private static byte[] EnsurePayload(string path, long size, int seed)
    {
        var marker = path + ".sha256";
        if (File.Exists(path) && new FileInfo(path).Length == size && File.Exists(marker))
        {
            return Convert.FromHexString(File.ReadAllText(marker).Trim());
        }
        Console.Error.WriteLine($"writing {ByteSize.Format(size)} of seeded random data to {path}...");
        var random = new Random(seed);
        var buffer = new byte[1 << 20];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            for (var left = size; left > 0;)
            {
                var chunk = (int)Math.Min(buffer.Length, left);
                random.NextBytes(buffer.AsSpan(0, chunk));
                file.Write(buffer, 0, chunk);
                sha.AppendData(buffer, 0, chunk);
                left -= chunk;
            }
        }
        var hash = sha.GetHashAndReset();
        File.WriteAllText(marker, Convert.ToHexString(hash));
        return hash;
    }

    private static async Task MakeTorrentAsync(Workspace workspace, string payload, string torrent, int pieceSize)
    {
        if (File.Exists(torrent) && File.GetLastWriteTimeUtc(torrent) >= File.GetLastWriteTimeUtc(payload)) return;
        Console.Error.WriteLine("making the torrent with libtorrent...");
        var (code, output) = await Task.Run(() => Workspace.RunQuick(workspace.Python,
            [Path.Combine(workspace.Scripts, "lt_make.py"), payload, "-o", torrent, "--piece-size", pieceSize.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(10), workspace.Root)).ConfigureAwait(false);
        if (code != 0) throw new BenchFailedException("lt_make.py failed: " + output);
    }

    private static async Task<long> ReadPieceLengthAsync(Workspace workspace, string torrent)
    {
        var (code, output) = await Task.Run(() => Workspace.RunQuick(workspace.Python, [Path.Combine(workspace.Scripts, "lt_infohash.py"), torrent],
            TimeSpan.FromMinutes(1), workspace.Root)).ConfigureAwait(false);
        if (code != 0) throw new BenchFailedException("lt_infohash.py failed: " + output);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("piece_length").GetInt64();
    }

    internal static byte[] Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return SHA256.HashData(stream);
    }

    internal static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
