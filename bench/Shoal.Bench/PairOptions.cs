using System.Globalization;
using Shoal.Metainfo;

namespace Shoal.Bench;

/// <summary>Command line of the <c>pair</c> benchmark.</summary>
internal sealed record PairOptions
{
    public const string Usage = """
        usage: shoal-bench pair [--size 1GiB] [--runs N] [--scenario NAME[,NAME...]|all] [--out FILE]
                                [--piece-size BYTES] [--work DIR] [--timeout SECONDS] [--shoal PATH/shoal.dll]
                                [--build] [--seed N] [--shoal-args "ARGS"] [--encryption plain|rc4] [--link-mbit N]
                                [--transport tcp|utp] [--torrent-version v1|v2|hybrid]
          One seeder and one leecher, separate processes, over TCP (or uTP) on 127.0.0.1.
          Scenarios (seeder-leecher): lt-lt (reference), lt-shoal, shoal-lt, shoal-shoal, shoal-tr, lt-tr; all = every one.
          (tr = transmission-cli, which the seeder dials; it never exits, so it is stopped once it prints "Seeding".)
          Measures wall time from leecher start to exit, CPU seconds of each side, peak RSS of each side.
          For tr leechers wall runs from the seeder's TCP connection to transmission-cli until its "Seeding" line.
          --shoal-args: extra options for the shoal leecher, split on spaces (A/B runs of engine settings,
          e.g. --shoal-args "--os-cache all").
          --encryption: plain (default) runs every client without message stream encryption (shoal --encryption disable,
          libtorrent plaintext); rc4 makes both ends require MSE/PE with RC4 over the whole stream (shoal --encryption
          require, libtorrent forced with allowed_enc_level rc4, transmission encryption required).
          --link-mbit: run both ends in a network namespace whose loopback is a link of N Mbit/s (HTB, MTU 1500)
          instead of the host's unshaped loopback: whether a client keeps up with a real link rather than how fast
          two processes on the same cores go. Needs root and iproute2; not for tr scenarios.
          --transport: tcp (default) makes every client use TCP only (shoal --no-utp, libtorrent TCP only); utp makes
          them use uTP only (shoal --utp-only, libtorrent with TCP off both ways); not for tr scenarios.
          --torrent-version: the torrent libtorrent makes for the payload: v1 (default), v2 (BEP 52 only: SHA-256 merkle
          trees, the v2 info-hash on the wire) or hybrid (both; peers that both speak v2 use the v2 hashes too). v2 is not
          for tr scenarios (transmission-cli has no BEP 52).
        """;

    public static readonly string[] AllScenarios = ["lt-lt", "lt-shoal", "shoal-lt", "shoal-shoal", "shoal-tr", "lt-tr"];

    public long Size { get; init; } = 1L << 30;
    public int Runs { get; init; } = 1;
    public IReadOnlyList<string> Scenarios { get; init; } = AllScenarios;
    public string? OutFile { get; init; }
    public int PieceSize { get; init; } // 0 = libtorrent's choice
    public string? WorkDirectory { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    public string? ShoalDll { get; init; }
    public bool Build { get; init; }
    public int Seed { get; init; } = 20240601;
    public IReadOnlyList<string> ShoalArguments { get; init; } = [];

    /// <summary>Rate of the shaped link both ends share, in Mbit/s; 0 = the host's loopback, unshaped.</summary>
    public int LinkMbit { get; init; }

    /// <summary>The kind of torrent made for the payload (lt_make.py --mode).</summary>
    public TorrentVersion Version { get; init; } = TorrentVersion.V1;

    /// <summary>Both ends use uTP only; otherwise TCP only.</summary>
    public bool Utp { get; init; }

    /// <summary>The shoal CLI's transport option for this run (both seeder and leecher).</summary>
    public string[] ShoalTransport => [Utp ? "--utp-only" : "--no-utp"];

    /// <summary>The libtorrent scripts' --transport value for this run.</summary>
    public string LibtorrentTransport => Utp ? "utp" : "tcp";

    /// <summary>Both ends use MSE/PE with RC4 over the whole stream; otherwise no encryption at all.</summary>
    public bool Rc4 { get; init; }

    /// <summary>The shoal CLI's --encryption option for this run (both seeder and leecher).</summary>
    public string[] ShoalEncryption => ["--encryption", Rc4 ? "require" : "disable"];

    /// <summary>The libtorrent scripts' --encryption value for this run.</summary>
    public string LibtorrentEncryption => Rc4 ? "forced" : "plaintext";

    public static PairOptions Parse(string[] args)
    {
        var options = new PairOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new BenchUsageException($"{name} needs a value");
            options = name switch
            {
                "--size" => options with { Size = ByteSize.Parse(Value()) },
                "--runs" => options with { Runs = ParseInt(name, Value(), 1, 100) },
                "--scenario" or "--scenarios" => options with { Scenarios = ParseScenarios(Value()) },
                "--out" => options with { OutFile = Value() },
                "--piece-size" => options with { PieceSize = (int)ByteSize.Parse(Value()) },
                "--work" => options with { WorkDirectory = Value() },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(ParseInt(name, Value(), 5, 24 * 3600)) },
                "--shoal" => options with { ShoalDll = Value() },
                "--build" => options with { Build = true },
                "--seed" => options with { Seed = ParseInt(name, Value(), int.MinValue, int.MaxValue) },
                "--shoal-args" => options with { ShoalArguments = Value().Split(' ', StringSplitOptions.RemoveEmptyEntries) },
                "--encryption" => options with
                {
                    Rc4 = Value() switch
                    {
                        "plain" => false,
                        "rc4" => true,
                        var other => throw new BenchUsageException($"--encryption: '{other}' is not plain or rc4"),
                    },
                },
                "--transport" => options with
                {
                    Utp = Value() switch
                    {
                        "tcp" => false,
                        "utp" => true,
                        var other => throw new BenchUsageException($"--transport: '{other}' is not tcp or utp"),
                    },
                },
                "--link-mbit" => options with { LinkMbit = ParseInt(name, Value(), 1, 100_000) },
                "--torrent-version" => options with { Version = Recheck.RecheckOptions.ParseVersion(Value()) },
                _ => throw new BenchUsageException($"unknown option '{name}'"),
            };
        }
        if (options.LinkMbit > 0 && options.Scenarios.Any(s => s.EndsWith("-tr", StringComparison.Ordinal)))
        {
            throw new BenchUsageException("--link-mbit does not support tr scenarios (transmission-cli is dialled from outside)");
        }
        if (options.Utp && options.Scenarios.Any(s => s.EndsWith("-tr", StringComparison.Ordinal)))
        {
            throw new BenchUsageException("--transport utp does not support tr scenarios (the seeder's connection to transmission-cli is watched as a TCP socket)");
        }
        if (options.Version == TorrentVersion.V2 && options.Scenarios.Any(s => s.EndsWith("-tr", StringComparison.Ordinal)))
        {
            throw new BenchUsageException("--torrent-version v2 does not support tr scenarios (transmission-cli has no BEP 52)");
        }
        return options;
    }

    private static int ParseInt(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new BenchUsageException($"{name}: '{value}' is not a number in {min}..{max}");

    private static string[] ParseScenarios(string value)
    {
        if (value == "all") return AllScenarios;
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var n in names)
        {
            if (!AllScenarios.Contains(n)) throw new BenchUsageException($"unknown scenario '{n}' (use {string.Join(", ", AllScenarios)} or all)");
        }
        return names.Length > 0 ? names : throw new BenchUsageException("--scenario is empty");
    }
}
