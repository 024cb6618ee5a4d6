using System.Globalization;

namespace Shoal.Bench.Swarm;

/// <summary>Command line of the <c>swarm</c> verb. Rates are bytes per second (5MB = 5,000,000).</summary>
internal sealed record SwarmOptions
{
    public const string Usage =
        "swarm [--leechers 4,8,16] [--size 256MiB] [--seeder-rate 20MB] [--leecher-rate 5MB] [--piece-size 256KiB] [--runs 1] [--mixed|--all-libtorrent] [--work DIR] [--timeout 600]";

    public IReadOnlyList<int> Leechers { get; init; } = [4, 8, 16];

    public long Size { get; init; } = 256L << 20;

    public long SeederRate { get; init; } = 20_000_000;

    public long LeecherRate { get; init; } = 5_000_000;

    public int PieceSize { get; init; } = 256 << 10;

    public int Runs { get; init; } = 1;

    /// <summary>How many of the leechers are libtorrent processes: none, half (rounded down) or all.</summary>
    public LibtorrentShare Libtorrent { get; init; }

    /// <summary>Some leechers are libtorrent processes (the bench then needs python3-libtorrent).</summary>
    public bool Mixed => Libtorrent != LibtorrentShare.None;

    /// <summary>The number of libtorrent leechers in a swarm of <paramref name="leechers"/>.</summary>
    public int LibtorrentLeechers(int leechers) => Libtorrent switch
    {
        LibtorrentShare.Half => leechers / 2,
        LibtorrentShare.All => leechers,
        _ => 0,
    };

    public string? Work { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(600);

    public static SwarmOptions Parse(string[] args)
    {
        var o = new SwarmOptions();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--mixed") { o = o with { Libtorrent = LibtorrentShare.Half }; continue; }
            if (args[i] == "--all-libtorrent") { o = o with { Libtorrent = LibtorrentShare.All }; continue; }
            string value = i + 1 < args.Length ? args[++i] : throw new BenchUsageException($"{args[i]} needs a value");
            o = args[i - 1] switch
            {
                "--leechers" => o with { Leechers = ParseCounts(value) },
                "--size" => o with { Size = ByteSize.Parse(value) },
                "--seeder-rate" => o with { SeederRate = ByteSize.Parse(value) },
                "--leecher-rate" => o with { LeecherRate = ByteSize.Parse(value) },
                "--piece-size" => o with { PieceSize = checked((int)ByteSize.Parse(value)) },
                "--runs" => o with { Runs = Positive(value, "--runs") },
                "--work" => o with { Work = value },
                "--timeout" => o with { Timeout = TimeSpan.FromSeconds(Positive(value, "--timeout")) },
                _ => throw new BenchUsageException($"swarm: unknown option {args[i - 1]}"),
            };
        }
        return o;
    }

    private static int[] ParseCounts(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new BenchUsageException("--leechers needs a list like 4,8,16");
        var counts = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            counts[i] = Positive(parts[i], "--leechers");
            if (counts[i] > 64) throw new BenchUsageException("--leechers: at most 64 per swarm");
        }
        return counts;
    }

    private static int Positive(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new BenchUsageException($"{option}: '{text}' is not a positive number");
}
