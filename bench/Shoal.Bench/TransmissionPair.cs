using System.Diagnostics;
using System.Globalization;

namespace Shoal.Bench;

/// <summary>
/// The pair benchmark with transmission-cli (Transmission 3.00) as the leecher. It neither dials loopback peers
/// from trackers nor takes a peer on its command line, so the seeder dials it; it never exits on completion,
/// so it is stopped with SIGINT once it prints its "Seeding" status line.
/// </summary>
/// <remarks>
/// transmission-cli starts first (it must listen before the seeder dials), and the seeder checks its data before
/// it dials; so the clock starts when the seeder's TCP connection to transmission-cli appears in /proc/net/tcp
/// (polled every 10 ms), and stops at the "Seeding" status line (transmission-cli rewrites its status about 5 times a second).
/// Transmission's CPU and peak RSS come from GNU time at exit and so include its (short) startup and idle wait.
/// </remarks>
internal static class TransmissionPair
{
    internal const string TransmissionCli = "/usr/bin/transmission-cli";
    private const string StdBuf = "/usr/bin/stdbuf";

    public static async Task<PairResult> RunAsync(Workspace workspace, PairOptions options, string? shoalDll, bool useTime,
        string scenario, int run, string work, string seedRoot, string torrent, byte[] sourceHash, string download, string timeFile)
    {
        if (!File.Exists(TransmissionCli)) throw new BenchFailedException($"{TransmissionCli} missing (apt-get install transmission-cli)");
        if (!File.Exists(StdBuf)) throw new BenchFailedException($"{StdBuf} missing (coreutils)");
        var seederKind = scenario.Split('-')[0];
        var config = Path.Combine(work, "transmission-config");
        if (Directory.Exists(config)) Directory.Delete(config, recursive: true); // no resume files from an earlier run
        Directory.CreateDirectory(config);
        // The interop tests' settings (loopback only, no DHT, LPD, PEX, uTP, port mapping), logging errors only.
        await File.WriteAllTextAsync(Path.Combine(config, "settings.json"), Shoal.Tests.Interop.TransmissionSettings.Json(messageLevel: 1, encryption: options.Rc4 ? 2 : 1)).ConfigureAwait(false);

        var port = PairBenchmark.FreePort();
        var watch = Stopwatch.StartNew();
        // stdout is a pipe, so transmission-cli's stdio would buffer 4 KiB (~10 s of status) at a time: stdbuf -o0 makes
        // every status line arrive when written (stdbuf execs transmission-cli, so the pid stays the same).
        using var leecher = TransmissionProcess.Start(StdBuf,
            ["-o0", TransmissionCli, "-g", config, "-w", download, "-p", port.ToString(CultureInfo.InvariantCulture), "-D", "-U", "-ep", torrent], useTime ? timeFile : null, watch);
        await WaitForSocketAsync(port, Listen, TimeSpan.FromSeconds(30), leecher, "listening").ConfigureAwait(false);

        // Watch for the seeder's connection from the moment the seeder starts, and read its CPU right then.
        BenchProcess? seederProcess = null;
        var connected = Task.Run(async () =>
        {
            await WaitForSocketAsync(port, Established, options.Timeout, leecher, "a connection from the seeder").ConfigureAwait(false);
            var at = watch.Elapsed;
            var cpu = Volatile.Read(ref seederProcess) is { } s ? BenchProcess.Sample(s.WorkerPid)?.CpuSeconds ?? 0 : 0;
            return (At: at, SeederCpu: cpu);
        });
        using var seeder = await PairBenchmark.StartSeederAsync(workspace, shoalDll, seederKind, seedRoot, torrent, options.Timeout, options.Rc4,
            $"127.0.0.1:{port}", p => Volatile.Write(ref seederProcess, p)).ConfigureAwait(false);
        var seederPid = seeder.Value.Process.WorkerPid;

        double leecherCpu = 0;
        long leecherRss = 0, leecherAnon = 0, seederAnon = 0;
        var seeding = leecher.Seeding.Task.WaitAsync(options.Timeout);
        // Diagnostic: Transmission decides to be interested on its 10 s rechoke timer, so data may start seconds after the connection.
        var firstData = leecher.FirstProgress.Task;
        while (!seeding.IsCompleted)
        {
            if (BenchProcess.Sample(leecher.WorkerPid) is { } sample)
            {
                (leecherCpu, leecherRss) = (sample.CpuSeconds, Math.Max(leecherRss, sample.PeakRssBytes));
                leecherAnon = Math.Max(leecherAnon, sample.AnonRssBytes);
            }
            if (BenchProcess.Sample(seederPid) is { } seederNow) seederAnon = Math.Max(seederAnon, seederNow.AnonRssBytes);
            await Task.WhenAny(seeding, Task.Delay(100)).ConfigureAwait(false);
        }
        try
        {
            await seeding.ConfigureAwait(false);
        }
        catch (Exception error) when (error is BenchFailedException or TimeoutException)
        {
            throw new BenchFailedException($"tr leecher: no \"Seeding\" ({error.Message})\n{leecher.Tail()}\nseeder:\n{seeder.Value.Process.Tail()}");
        }
        var done = seeding.Result;
        var seederSample = BenchProcess.Sample(seederPid);
        var start = await connected.ConfigureAwait(false);
        if (firstData.IsCompletedSuccessfully)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  transmission-cli: first progress above 0.0% {(firstData.Result - start.At).TotalSeconds:0.0} s after the connection, \"Seeding\" {(done - firstData.Result).TotalSeconds:0.0} s after that"));
        }

        // SIGINT: transmission-cli closes the torrent (flushing its cache) and exits, so GNU time reports.
        await leecher.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (leecher.TimeReport() is { } report) (leecherCpu, leecherRss) = (report.Cpu, report.PeakRss);

        var downloaded = Path.Combine(download, PairBenchmark.PayloadName);
        var verified = File.Exists(downloaded) && PairBenchmark.Sha256(downloaded).AsSpan().SequenceEqual(sourceHash);
        return new PairResult(scenario, run, new FileInfo(Path.Combine(seedRoot, PairBenchmark.PayloadName)).Length, (done - start.At).TotalSeconds,
            leecherCpu, (seederSample?.CpuSeconds ?? 0) - start.SeederCpu, leecherRss, seederSample?.PeakRssBytes ?? 0,
            leecherAnon, Math.Max(seederAnon, seederSample?.AnonRssBytes ?? 0), verified);
    }

    private const string Listen = "0A";
    private const string Established = "01";

    /// <summary>Polls /proc/net/tcp for a socket on local port <paramref name="port"/> in TCP state <paramref name="state"/>.</summary>
    private static async Task WaitForSocketAsync(int port, string state, TimeSpan timeout, TransmissionProcess owner, string what)
    {
        var local = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
            {
                // sl local_address rem_address st ...
                var fields = line.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 4 && fields[1].EndsWith(local, StringComparison.Ordinal) && fields[3] == state) return;
            }
            if (owner.HasExited) throw new BenchFailedException($"tr leecher: exited before {what}\n{owner.Tail()}");
            if (deadline.Elapsed > timeout) throw new BenchFailedException($"tr leecher: no {what} within {timeout.TotalSeconds:0} s\n{owner.Tail()}");
            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
