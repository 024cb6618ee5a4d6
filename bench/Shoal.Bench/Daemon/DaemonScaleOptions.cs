using System.Globalization;

namespace Shoal.Bench.Daemon;

/// <summary>Command line of the <c>daemon-scale</c> verb.</summary>
internal sealed record DaemonScaleOptions
{
    public const string Usage = "daemon-scale [--torrents 10000] [--size 64KiB] [--idle-seconds 30] [--settle-seconds 60] [--list-runs 20] [--shoal PATH] [--work DIR] [--no-libtorrent]";

    /// <summary>Torrents held (each one file of <see cref="Size"/> bytes).</summary>
    public int Torrents { get; init; } = 10_000;

    public int Size { get; init; } = 64 * 1024;

    /// <summary>Seconds the idle CPU is measured over.</summary>
    public int IdleSeconds { get; init; } = 30;

    /// <summary>Seconds between every torrent seeding after the restart and the idle measurement.</summary>
    public int SettleSeconds { get; init; } = 60;

    /// <summary>Times the torrent list is fetched.</summary>
    public int ListRuns { get; init; } = 20;

    /// <summary>The shoal CLI's shoal.dll; null: the bench's own self-contained publish.</summary>
    public string? Shoal { get; init; }

    public string? Work { get; init; }

    public bool Libtorrent { get; init; } = true;

    public static DaemonScaleOptions Parse(string[] args)
    {
        var o = new DaemonScaleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--no-libtorrent")
            {
                o = o with { Libtorrent = false };
                continue;
            }
            string value = i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--torrents" => o with { Torrents = Positive(value, "--torrents") },
                "--size" => o with { Size = checked((int)ByteSize.Parse(value)) },
                "--idle-seconds" => o with { IdleSeconds = Positive(value, "--idle-seconds") },
                "--settle-seconds" => o with { SettleSeconds = Positive(value, "--settle-seconds") },
                "--list-runs" => o with { ListRuns = Positive(value, "--list-runs") },
                "--shoal" => o with { Shoal = value },
                "--work" => o with { Work = value },
                _ => throw new BenchUsageException($"daemon-scale: unknown option {args[i]}"),
            };
            i++;
        }
        return o;
    }

    private static int Positive(string value, string name)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new BenchUsageException($"{name}: a positive number");
}
