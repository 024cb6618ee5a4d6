using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Shoal.Bench.Dht;
using Shoal.Bench.Peers;
using Shoal.Bench.Recheck;
using Shoal.Bench.Swarm;
using Shoal.Bench.Trackers;

namespace Shoal.Bench.Suite;

/// <summary>
/// <c>suite</c>: every benchmark of issue 6 in one process, one after the other, through the verbs' own
/// Measure methods (each verb's options are built as its command line and parsed by the verb, so the report can
/// name the command that reruns any one of them alone). One benchmark failing is a row in the report; the rest
/// still run.
/// </summary>
internal static class SuiteBenchmark
{
    private const string Bench = "dotnet run -c Release --project bench/Shoal.Bench --";

    /// <summary>The link of the pair-link section: gigabit Ethernet, what a home server or a seedbox has.</summary>
    private const int LinkMbit = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        SuiteOptions options = SuiteOptions.Parse(args);
        var started = DateTime.UtcNow;
        string loadBefore = Machine.LoadAverage();
        string command = $"{Bench} suite {string.Join(' ', args)}".TrimEnd();

        string root = Workspace.FindRoot();
        var workspace = new Lazy<(Workspace? Value, string? Problem)>(() => Try(Workspace.Find));
        var shoal = new Lazy<(string? Value, string? Problem)>(() => Try(() => Workspace.ResolveShoal(root, options.ShoalDll, options.Build)));
        // The CLI is built (when it must be) before any clock starts, so a build never overlaps a benchmark.
        if (options.Only.Any(n => n is "pair" or "pair-rc4" or "transmission" or "tracker")) _ = shoal.Value;

        var report = new SuiteReport(options, command, started, loadBefore, Setting(root, workspace.Value, shoal, options));
        Workspace NeedWorkspace() => workspace.Value.Value ?? throw new BenchFailedException(workspace.Value.Problem!);
        string NeedShoal() => shoal.Value.Value ?? throw new BenchFailedException(shoal.Value.Problem!);
        string[] shoalArgs = options.ShoalDll is null ? [] : ["--shoal", options.ShoalDll];

        async Task Section(string name, string title, Func<Task<(string Markdown, IReadOnlyList<string> Problems)>> body)
        {
            if (!options.Includes(name)) return;
            Console.Error.WriteLine($"== suite: {name} ({report.Sections.Count + 1} of {options.Only.Count}) ==");
            Settle();
            var clock = Stopwatch.StartNew();
            try
            {
                (string markdown, IReadOnlyList<string> problems) = await body().ConfigureAwait(false);
                report.Add(new SuiteReport.Section(name, title, clock.Elapsed.TotalSeconds, Summarize(problems), markdown));
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                string reason = OneLine(error);
                Console.Error.WriteLine($"== suite: {name} failed: {reason}");
                report.Add(new SuiteReport.Section(name, title, clock.Elapsed.TotalSeconds, reason, null));
            }
            if (options.OutFile is not null) await File.WriteAllTextAsync(options.OutFile, report.Render(loadAfter: null)).ConfigureAwait(false);
        }

        await Section("pair", "1. Pair throughput: one seeder, one leecher, loopback TCP", async () =>
        {
            string[] verb = ["--size", ByteSize.Argument(options.PairSize), "--runs", Text(options.Runs), "--scenario", "lt-lt,lt-shoal,shoal-lt,shoal-shoal",
                "--timeout", Text((int)options.PairTimeout.TotalSeconds), .. shoalArgs];
            PairOptions pairOptions = PairOptions.Parse(verb);
            Workspace ws = NeedWorkspace();
            PairOutcome outcome = await PairBenchmark.MeasureAsync(pairOptions, ws, NeedShoal()).ConfigureAwait(false);
            report.Pair = outcome;
            return (ResultTable.Render(pairOptions, ws, $"{Bench} pair {string.Join(' ', verb)}", outcome), PairProblems(outcome));
        }).ConfigureAwait(false);

        await Section("pair-rc4", "1b. Pair throughput with message stream encryption (MSE/PE, RC4) on both ends", async () =>
        {
            string[] verb = ["--size", ByteSize.Argument(options.PairSize), "--runs", Text(options.Runs), "--scenario", "lt-lt,shoal-shoal",
                "--timeout", Text((int)options.PairTimeout.TotalSeconds), "--encryption", "rc4", .. shoalArgs];
            PairOptions pairOptions = PairOptions.Parse(verb);
            Workspace ws = NeedWorkspace();
            PairOutcome outcome = await PairBenchmark.MeasureAsync(pairOptions, ws, NeedShoal()).ConfigureAwait(false);
            report.PairRc4 = outcome;
            return (ResultTable.Render(pairOptions, ws, $"{Bench} pair {string.Join(' ', verb)}", outcome), PairProblems(outcome));
        }).ConfigureAwait(false);

        // The RC4 target is about a real link: on loopback both ends share the two cores and every cycle RC4 costs
        // comes off a CPU-bound rate (docs/performance.md section 3b). Plain and RC4 over the same shaped gigabit link
        // show whether RC4 makes a transfer CPU-bound below the link's rate.
        await Section("pair-link", $"1d. Pair throughput over a {LinkMbit} Mbit/s link, without and with RC4", async () =>
        {
            Workspace ws = NeedWorkspace();
            var tables = new System.Text.StringBuilder();
            var problems = new List<string>();
            foreach (string encryption in new[] { "plain", "rc4" })
            {
                string[] verb = ["--size", ByteSize.Argument(options.PairSize), "--runs", Text(options.Runs), "--scenario", "lt-lt,shoal-shoal",
                    "--timeout", Text((int)options.PairTimeout.TotalSeconds), "--encryption", encryption, "--link-mbit", Text(LinkMbit), .. shoalArgs];
                PairOptions pairOptions = PairOptions.Parse(verb);
                PairOutcome outcome = await PairBenchmark.MeasureAsync(pairOptions, ws, NeedShoal()).ConfigureAwait(false);
                if (encryption == "rc4") report.PairLinkRc4 = outcome;
                else report.PairLinkPlain = outcome;
                tables.Append(ResultTable.Render(pairOptions, ws, $"{Bench} pair {string.Join(' ', verb)}", outcome)).AppendLine();
                problems.AddRange(PairProblems(outcome));
            }
            return (tables.ToString(), problems);
        }).ConfigureAwait(false);

        await Section("transmission", "1c. Pair throughput with transmission-cli as the leecher", async () =>
        {
            if (!File.Exists(TransmissionPair.TransmissionCli)) throw new BenchFailedException($"{TransmissionPair.TransmissionCli} missing (apt-get install transmission-cli)");
            string[] verb = ["--size", ByteSize.Argument(options.TransmissionSize), "--runs", Text(options.TransmissionRuns), "--scenario", "shoal-tr,lt-tr",
                "--timeout", Text((int)options.PairTimeout.TotalSeconds), .. shoalArgs];
            PairOptions pairOptions = PairOptions.Parse(verb);
            Workspace ws = NeedWorkspace();
            PairOutcome outcome = await PairBenchmark.MeasureAsync(pairOptions, ws, NeedShoal()).ConfigureAwait(false);
            report.Transmission = outcome;
            string note = string.Create(CultureInfo.InvariantCulture,
                $"transmission-cli is slow (it idles 11-15 s after the seeder's connection before it requests), so these pairs move {ByteSize.Format(options.TransmissionSize)} " +
                $"in {Runs(options.TransmissionRuns)}, where the other pairs move {ByteSize.Format(options.PairSize)} in {Runs(options.Runs)}.\n\n");
            return (note + ResultTable.Render(pairOptions, ws, $"{Bench} pair {string.Join(' ', verb)}", outcome), PairProblems(outcome));
        }).ConfigureAwait(false);

        (string Name, string Title, LibtorrentShare Share, string Leechers)[] swarms =
        [
            ("swarm", "2. Swarm scaling, all Shoal", LibtorrentShare.None, "4,8,16"),
            ("swarm-mixed", "2b. Swarm scaling, half of the leechers libtorrent", LibtorrentShare.Half, "4,8,16"),
            ("swarm-lt", "2c. Swarm scaling, every leecher libtorrent (the reference for 2b), N = 16", LibtorrentShare.All, "16"),
        ];
        foreach ((string name, string title, LibtorrentShare share, string leechers) in swarms)
        {
            await Section(name, title, async () =>
            {
                string[] flag = share switch { LibtorrentShare.Half => ["--mixed"], LibtorrentShare.All => ["--all-libtorrent"], _ => [] };
                string[] verb = ["--leechers", leechers, "--size", ByteSize.Argument(options.SwarmSize), "--seeder-rate", "20MB", "--leecher-rate", "5MB",
                    "--timeout", Text((int)options.SwarmTimeout.TotalSeconds), .. flag];
                SwarmOutcome outcome = await SwarmBenchmark.MeasureAsync(SwarmOptions.Parse(verb), share == LibtorrentShare.None ? null : NeedWorkspace())
                    .ConfigureAwait(false);
                switch (share)
                {
                    case LibtorrentShare.Half: report.SwarmMixed = outcome; break;
                    case LibtorrentShare.All: report.SwarmLibtorrent = outcome; break;
                    default: report.Swarm = outcome; break;
                }
                var problems = new List<string>(outcome.Failures);
                problems.AddRange(outcome.Rows.Where(r => r.BadCopies > 0).Select(r => $"N={r.Leechers} run {r.Run}: {r.BadCopies} copies differ from the source"));
                return (SwarmBenchmark.Render(outcome, $"{Bench} swarm {string.Join(' ', verb)}"), problems);
            }).ConfigureAwait(false);
        }

        await Section("recheck", "3. Recheck", async () =>
        {
            string[] verb = ["--size", ByteSize.Argument(options.RecheckSize), "--runs", Text(options.RecheckRuns)];
            RecheckOutcome outcome = await RecheckBenchmark.MeasureAsync(RecheckOptions.Parse(verb)).ConfigureAwait(false);
            report.Recheck = outcome;
            return (RecheckBenchmark.Render(outcome, $"{Bench} recheck {string.Join(' ', verb)}"),
                outcome.Succeeded ? [] : ["a check did not verify every piece of an intact file"]);
        }).ConfigureAwait(false);

        await Section("peers", "4. Many peers", async () =>
        {
            string[] verb = ["--counts", "50,100,200", "--size", ByteSize.Argument(options.PeersSize), "--seconds", Text(options.PeersSeconds)];
            PeersOutcome outcome = await PeersBenchmark.MeasureAsync(PeersOptions.Parse(verb)).ConfigureAwait(false);
            report.Peers = outcome;
            return (PeersBenchmark.Render(outcome, "peers " + string.Join(' ', verb)), []);
        }).ConfigureAwait(false);

        await Section("tracker", "5. Tracker: announces per second on loopback", async () =>
        {
            string[] verb = ["--seconds", Text(options.TrackerSeconds), .. shoalArgs];
            TrackerOptions trackerOptions = TrackerOptions.Parse(verb);
            TrackerOutcome outcome = await TrackerBenchmark.MeasureAsync(trackerOptions, NeedShoal()).ConfigureAwait(false);
            string markdown = $"""
                ### tracker: `shoal tracker` (its own process) on 127.0.0.1, UDP then HTTP

                - command: `{Bench} tracker {string.Join(' ', verb)}`
                - UDP (BEP 15): {trackerOptions.Clients} client sockets on their own threads, one request in flight each; HTTP: one HttpClient, keep-alive, {trackerOptions.Clients} requests in flight
                - every announce names one of {trackerOptions.Torrents:N0} info-hashes and a distinct port; 1 s warm-up per protocol; CPU = the tracker process only


                """ + TrackerBenchmark.Render(outcome);
            IReadOnlyList<string> problems = outcome.Udp.PerSecond > 0 && outcome.Http.PerSecond > 0 ? [] : ["a protocol answered no announce"];
            return (markdown, problems);
        }).ConfigureAwait(false);

        await Section("dht", "6. DHT lookups (simulation)", async () =>
        {
            string[] verb = ["--nodes", Text(options.DhtNodes), "--lookups", Text(options.DhtLookups)];
            Shoal.Tests.Dht.DhtLookupSimulation.Result result = await Task.Run(() => DhtBenchmark.Measure(DhtBenchmark.Parse(verb))).ConfigureAwait(false);
            return (DhtBenchmark.Render(result, $"{Bench} dht {string.Join(' ', verb)}"),
                DhtBenchmark.Succeeded(result) ? [] : ["lookups below the test's bars (99% before churn, 95% after) or internal errors"]);
        }).ConfigureAwait(false);

        await Section("many-torrents", "7. Many torrents in one session (issue 22)", async () =>
        {
            string[] verb = ["--counts", options.ManyTorrentsCounts];
            Shoal.Bench.Many.ManyTorrentsOptions manyOptions = Shoal.Bench.Many.ManyTorrentsOptions.Parse(verb);
            Shoal.Bench.Many.ManyTorrentsBenchmark.Outcome outcome = await Shoal.Bench.Many.ManyTorrentsBenchmark.MeasureAsync(manyOptions, NeedWorkspace()).ConfigureAwait(false);
            return (Shoal.Bench.Many.ManyTorrentsBenchmark.Render(outcome, $"{Bench} many-torrents {string.Join(' ', verb)}"), outcome.Failures);
        }).ConfigureAwait(false);

        await Section("daemon", "8. One daemon, many torrents", async () =>
        {
            string[] verb = ["--torrents", Text(options.DaemonTorrents), .. shoalArgs];
            Shoal.Bench.Daemon.DaemonScaleOptions daemonOptions = Shoal.Bench.Daemon.DaemonScaleOptions.Parse(verb);
            Shoal.Bench.Daemon.DaemonScaleBenchmark.Outcome outcome = await Shoal.Bench.Daemon.DaemonScaleBenchmark.MeasureAsync(
                daemonOptions, NeedShoal(), NeedWorkspace()).ConfigureAwait(false);
            return (Shoal.Bench.Daemon.DaemonScaleBenchmark.Render(outcome, $"{Bench} daemon-scale {string.Join(' ', verb)}"), []);
        }).ConfigureAwait(false);

        string markdown = report.Render(Machine.LoadAverage());
        Console.WriteLine(markdown);
        if (options.OutFile is not null)
        {
            await File.WriteAllTextAsync(options.OutFile, markdown).ConfigureAwait(false);
            Console.Error.WriteLine($"written to {options.OutFile}");
        }
        return report.AllSucceeded ? 0 : 1;
    }

    /// <summary>The report's lines about where it ran: hardware, system, software versions, the checkout and the CLI build.</summary>
    private static List<string> Setting(string root, (Workspace? Value, string? Problem) workspace, Lazy<(string? Value, string? Problem)> shoal,
        SuiteOptions options)
    {
        var inv = CultureInfo.InvariantCulture;
        string libtorrent = workspace.Value is { } ws ? ws.LibtorrentVersion + " (python3-libtorrent)" : "unavailable: " + workspace.Problem;
        var lines = new List<string>
        {
            string.Create(inv, $"machine: {Environment.ProcessorCount} cores ({Machine.CpuModel()}), {Machine.MemoryTotal()}; {Machine.Kernel()}; {Machine.OperatingSystem()}"),
            $"software: {RuntimeInformation.FrameworkDescription}, libtorrent {libtorrent}, transmission-cli {Machine.TransmissionVersion()}",
        };
        var (code, head) = Workspace.RunQuick("git", ["-C", root, "log", "-1", "--format=%h %s"], TimeSpan.FromSeconds(10), root);
        var (_, dirty) = Workspace.RunQuick("git", ["-C", root, "status", "--porcelain", "--untracked-files=no"], TimeSpan.FromSeconds(10), root);
        if (code == 0) lines.Add($"checkout: {head.Trim()}{(dirty.Trim().Length > 0 ? " (with uncommitted changes)" : "")}");
        if (shoal.IsValueCreated)
        {
            lines.Add(shoal.Value.Value is { } dll
                ? string.Create(inv, $"shoal CLI: {Path.GetRelativePath(root, dll)} ({(Workspace.IsSelfContained(dll) ? "self-contained" : "on the shared runtime")}), built {File.GetLastWriteTimeUtc(dll):yyyy-MM-dd HH:mm} UTC{(options.Build ? " (rebuilt for this run)" : "")}")
                : "shoal CLI: unavailable: " + shoal.Value.Problem);
        }
        return lines;
    }

    /// <summary>Between benchmarks: dirty pages written back and garbage collected, so one benchmark's leftovers do not slow the next.</summary>
    private static void Settle()
    {
        try
        {
            Workspace.SyncFileSystems();
        }
        catch (BenchFailedException)
        {
            // A hygiene step, not a measurement: the pair benchmark syncs again before each of its runs.
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static List<string> PairProblems(PairOutcome outcome)
    {
        var problems = new List<string>(outcome.Failures);
        problems.AddRange(outcome.Results.Where(r => !r.Verified).Select(r => $"{r.Scenario} run {r.Run}: the download differs from the source"));
        return problems;
    }

    private static string? Summarize(IReadOnlyList<string> problems) => problems.Count switch
    {
        0 => null,
        1 => Clean(problems[0]),
        _ => Clean(problems[0]) + $" (and {problems.Count - 1} more, below)",
    };

    private static string OneLine(Exception error) =>
        Clean(error is BenchFailedException or BenchUsageException ? error.Message : $"{error.GetType().Name}: {error.Message}");

    private static string Clean(string text) => text.Split('\n')[0].Trim().Replace('|', '/');

    private static (T? Value, string? Problem) Try<T>(Func<T> get) where T : class
    {
        try
        {
            return (get(), null);
        }
        catch (BenchFailedException error)
        {
            return (null, Clean(error.Message));
        }
    }

    private static string Runs(int n) => n == 1 ? "1 run" : $"{n} runs";

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
