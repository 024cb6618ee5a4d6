using System.Globalization;

namespace Shoal.Bench.Many;

/// <summary>Command line of the <c>many-torrents</c> verb.</summary>
internal sealed record ManyTorrentsOptions
{
    public const string Usage = "many-torrents [--counts 1000,10000] [--idle-seconds 20] [--settle-seconds 30] [--engines shoal,libtorrent] [--max-open-files 128] [--work DIR]";

    public IReadOnlyList<int> Counts { get; init; } = [1000, 10000];

    /// <summary>How long the seeding session is left alone while its CPU time is measured.</summary>
    public int IdleSeconds { get; init; } = 20;

    /// <summary>
    /// How long after every torrent seeds the idle window starts at the earliest: what the start left behind is done by
    /// then (resume saves; and Shoal's one collection that gives the burst's memory back, 5-10 s after the process went
    /// quiet, which took 10-20 s after a cold start of 10,000 under load).
    /// </summary>
    public int SettleSeconds { get; init; } = 30;

    public IReadOnlyList<string> Engines { get; init; } = ["shoal", "libtorrent"];

    /// <summary>Shoal's file pool (SessionOptions.MaxOpenFiles).</summary>
    public int MaxOpenFiles { get; init; } = Shoal.Storage.DiskService.DefaultMaxOpenFiles;

    /// <summary>Where the data and torrents are kept between runs (made once, reused).</summary>
    public string? Work { get; init; }

    public static ManyTorrentsOptions Parse(string[] args)
    {
        var o = new ManyTorrentsOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--counts" => o with { Counts = [.. value.Split(',').Select(v => Positive("--counts", v))] },
                "--idle-seconds" => o with { IdleSeconds = Positive("--idle-seconds", value) },
                "--settle-seconds" => o with { SettleSeconds = Positive("--settle-seconds", value) },
                "--engines" => o with
                {
                    Engines = value.Split(',') is var e && e.All(x => x is "shoal" or "libtorrent") ? e : throw new BenchUsageException("--engines: shoal and/or libtorrent"),
                },
                "--max-open-files" => o with { MaxOpenFiles = Positive("--max-open-files", value) },
                "--work" => o with { Work = value },
                _ => throw new BenchUsageException($"many-torrents: unknown option {args[i]}"),
            };
            i++;
        }
        return o;
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new BenchUsageException($"{name}: a positive number");
}
