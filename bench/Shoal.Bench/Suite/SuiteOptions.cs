using System.Globalization;

namespace Shoal.Bench.Suite;

/// <summary>Command line of the <c>suite</c> verb, and the size of each benchmark in a full and a quick run.</summary>
internal sealed record SuiteOptions
{
    public const string Usage = """
        usage: shoal-bench suite [--out FILE] [--quick] [--runs N] [--only NAME[,NAME...]] [--pair-size SIZE]
                                 [--shoal PATH/shoal.dll] [--build]
          Every benchmark of issue 6, one after the other in this process, into one markdown report (--out and stdout):
          the machine, the date, the command, every table, and the targets computed from the results.
            pair          lt-lt, lt-shoal, shoal-lt, shoal-shoal: 1 GiB, median of --runs (default 3), no encryption
            pair-rc4      lt-lt, shoal-shoal with MSE/PE RC4 on both ends (shoal require, libtorrent forced), same size and runs
            pair-link     lt-lt, shoal-shoal without and with RC4 over a 1000 Mbit/s link (a network namespace; needs root)
            transmission  shoal-tr, lt-tr (transmission-cli is slow): 256 MiB, at most 2 runs
            swarm         1 seeder + 4, 8, 16 all-Shoal leechers, 256 MiB, seeder capped at 20 MB/s, leechers at 5 MB/s
            swarm-mixed   the same with half of the leechers libtorrent
            swarm-lt      the reference for swarm-mixed: N = 16 with every leecher libtorrent (the seeder Shoal)
            recheck       checking 2 GiB against one core's SHA-1 rate
            peers         one Shoal seeder with 50, 100, 200 connections: memory per idle connection, CPU
            tracker       shoal tracker's announces per second, UDP and HTTP, 10 s each
            dht           the 2,000-node DHT lookup simulation
            daemon        shoal daemon holding 10,000 seeding torrents against libtorrent holding them in one session
            many-torrents one session seeding N = 1,000 and 10,000 torrents of 64 KiB, Shoal and libtorrent (quick: 1,000)
          --quick       small sizes (pair 256 MiB, transmission 64 MiB, swarm 32 MiB, recheck 256 MiB, ...): a smoke test of a
                        few minutes whose figures are not comparable with the targets
          --only        a comma-separated subset of the names above
          --pair-size   overrides the pair size (not transmission's)
          A benchmark that fails is a row with its reason in the report, and the suite goes on; the exit code is 1
          when any failed. A full run takes about 14-16 minutes on 2 cores.
        """;

    public static readonly string[] AllBenchmarks = ["pair", "pair-rc4", "pair-link", "transmission", "swarm", "swarm-mixed", "swarm-lt", "recheck", "peers", "tracker", "dht", "many-torrents", "daemon"];

    public string? OutFile { get; init; }

    public bool Quick { get; init; }

    /// <summary>Runs per pair scenario; the median is reported.</summary>
    public int Runs { get; init; } = 3;

    public IReadOnlyList<string> Only { get; init; } = AllBenchmarks;

    public long? PairSizeOverride { get; init; }

    public string? ShoalDll { get; init; }

    public bool Build { get; init; }

    public long PairSize => PairSizeOverride ?? (Quick ? 256L << 20 : 1L << 30);

    public long TransmissionSize => Quick ? 64L << 20 : 256L << 20;

    /// <summary>transmission-cli idles 11-15 s before it requests, so its runs are few.</summary>
    public int TransmissionRuns => Quick ? 1 : Math.Min(Runs, 2);

    public TimeSpan PairTimeout => TimeSpan.FromSeconds(Quick ? 120 : 300);

    public long SwarmSize => Quick ? 32L << 20 : 256L << 20;

    public TimeSpan SwarmTimeout => TimeSpan.FromSeconds(Quick ? 120 : 300);

    public long RecheckSize => Quick ? 256L << 20 : 2L << 30;

    public int RecheckRuns => Quick ? 1 : 2;

    /// <summary>Torrents per session in the many-torrents benchmark.</summary>
    public string ManyTorrentsCounts => Quick ? "1000" : "1000,10000";

    public long PeersSize => Quick ? 16L << 20 : 64L << 20;

    public int PeersSeconds => Quick ? 2 : 10;

    public int TrackerSeconds => Quick ? 2 : 10;

    /// <summary>Torrents the daemon holds in the scale benchmark (issue 15: 10,000).</summary>
    public int DaemonTorrents => Quick ? 500 : 10_000;

    public int DhtNodes => Quick ? 500 : 2000;

    public int DhtLookups => Quick ? 100 : 200;

    public bool Includes(string benchmark) => Only.Contains(benchmark);

    public static SuiteOptions Parse(string[] args)
    {
        var o = new SuiteOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new BenchUsageException($"{name} needs a value");
            o = name switch
            {
                "--out" => o with { OutFile = Value() },
                "--quick" => o with { Quick = true },
                "--runs" => o with { Runs = Int(name, Value(), 1, 20) },
                "--only" => o with { Only = ParseOnly(Value()) },
                "--pair-size" => o with { PairSizeOverride = ByteSize.Parse(Value()) },
                "--shoal" => o with { ShoalDll = Value() },
                "--build" => o with { Build = true },
                _ => throw new BenchUsageException($"suite: unknown option '{name}'\n{Usage}"),
            };
        }
        return o;
    }

    private static string[] ParseOnly(string value)
    {
        string[] names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new BenchUsageException("--only is empty");
        foreach (string n in names)
        {
            if (!AllBenchmarks.Contains(n)) throw new BenchUsageException($"--only: unknown benchmark '{n}' (use {string.Join(", ", AllBenchmarks)})");
        }
        // Always in the suite's order, whatever order they were named in.
        return [.. AllBenchmarks.Where(names.Contains)];
    }

    private static int Int(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new BenchUsageException($"{name}: '{value}' is not a number in {min}..{max}");
}
