using System.Globalization;

namespace Shoal.Bench.Trackers;

/// <summary>Command line of the <c>tracker</c> verb.</summary>
internal sealed record TrackerOptions
{
    public const string Usage = """
        usage: shoal-bench tracker [--seconds N] [--clients N] [--torrents N] [--shoal PATH/shoal.dll] [--build]
          --seconds   length of each phase (UDP, then HTTP), default 10
          --clients   concurrent UDP sockets and HTTP requests, default 16
          --torrents  distinct info-hashes announced, default 10000
        """;

    public int Seconds { get; init; } = 10;

    public int Clients { get; init; } = 16;

    public int Torrents { get; init; } = 10_000;

    public string? ShoalDll { get; init; }

    public bool Build { get; init; }

    public static TrackerOptions Parse(string[] args)
    {
        var o = new TrackerOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new BenchUsageException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--seconds" => o with { Seconds = Int(Next(), 1, 600) },
                "--clients" => o with { Clients = Int(Next(), 1, 1024) },
                "--torrents" => o with { Torrents = Int(Next(), 1, 1_000_000) },
                "--shoal" => o with { ShoalDll = Next() },
                "--build" => o with { Build = true },
                _ => throw new BenchUsageException($"unknown option '{args[i]}'\n{Usage}"),
            };
        }
        return o;
    }

    private static int Int(string text, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new BenchUsageException($"'{text}' must be a whole number from {min} to {max}");
}
