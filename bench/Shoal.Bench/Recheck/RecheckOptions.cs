using System.Globalization;
using Shoal.Metainfo;

namespace Shoal.Bench.Recheck;

/// <summary>Command line of the <c>recheck</c> verb.</summary>
internal sealed record RecheckOptions
{
    public const string Usage = "recheck [--size 2GiB] [--piece-size 1MiB] [--runs 2] [--work DIR] [--torrent-version v1|v2|hybrid]";

    public long Size { get; init; } = 2L << 30;

    public int PieceSize { get; init; } = 1 << 20;

    /// <summary>Runs per disk concurrency (the default, then 1).</summary>
    public int Runs { get; init; } = 2;

    public string? Work { get; init; }

    /// <summary>
    /// The kind of torrent checked: v1 (SHA-1 pieces, against one core's SHA-1), v2 (SHA-256 merkle trees, against one
    /// core's SHA-256) or hybrid (both hashes over every byte, against one core doing both).
    /// </summary>
    public TorrentVersion Version { get; init; } = TorrentVersion.V1;

    public static RecheckOptions Parse(string[] args)
    {
        var o = new RecheckOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--size" => o with { Size = ByteSize.Parse(value) },
                "--piece-size" => o with { PieceSize = checked((int)ByteSize.Parse(value)) },
                "--runs" => o with
                {
                    Runs = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r > 0 ? r : throw new BenchUsageException("--runs: a positive number"),
                },
                "--work" => o with { Work = value },
                "--torrent-version" => o with { Version = ParseVersion(value) },
                _ => throw new BenchUsageException($"recheck: unknown option {args[i]}"),
            };
            i++;
        }
        return o;
    }

    /// <summary>v1, v2 or hybrid, as <c>shoal create</c> names them.</summary>
    internal static TorrentVersion ParseVersion(string value) => value switch
    {
        "v1" => TorrentVersion.V1,
        "v2" => TorrentVersion.V2,
        "hybrid" => TorrentVersion.Hybrid,
        _ => throw new BenchUsageException($"--torrent-version: '{value}' is not v1, v2 or hybrid"),
    };

    /// <summary>The name <see cref="ParseVersion"/> reads.</summary>
    internal static string VersionName(TorrentVersion version) => version switch
    {
        TorrentVersion.V2 => "v2",
        TorrentVersion.Hybrid => "hybrid",
        _ => "v1",
    };
}
