using System.Globalization;

namespace Shoal.Bench.Recheck;

/// <summary>Command line of the <c>recheck</c> verb.</summary>
internal sealed record RecheckOptions
{
    public const string Usage = "recheck [--size 2GiB] [--piece-size 1MiB] [--runs 2] [--work DIR]";

    public long Size { get; init; } = 2L << 30;

    public int PieceSize { get; init; } = 1 << 20;

    /// <summary>Runs per disk concurrency (the default, then 1).</summary>
    public int Runs { get; init; } = 2;

    public string? Work { get; init; }

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
                _ => throw new BenchUsageException($"recheck: unknown option {args[i]}"),
            };
            i++;
        }
        return o;
    }
}
