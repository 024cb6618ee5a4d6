using System.Globalization;

namespace Shoal.Bench;

/// <summary>Parses and prints sizes like 1GiB, 512MiB, 100MB, 20M, 4096.</summary>
internal static class ByteSize
{
    /// <summary>Bytes in <paramref name="text"/>; binary units for K/M/G with or without 'iB', decimal for kB/MB/GB.</summary>
    public static long Parse(string text)
    {
        var s = text.Trim();
        var split = 0;
        while (split < s.Length && (char.IsDigit(s[split]) || s[split] == '.')) split++;
        if (split == 0 || !double.TryParse(s.AsSpan(0, split), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            throw new BenchUsageException($"bad size '{text}'");
        }
        double unit = s[split..].Trim() switch
        {
            "" or "B" => 1,
            "K" or "KiB" or "k" => 1024,
            "M" or "MiB" => 1024 * 1024,
            "G" or "GiB" => 1024.0 * 1024 * 1024,
            "kB" or "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            var other => throw new BenchUsageException($"bad size unit '{other}' in '{text}'"),
        };
        var bytes = number * unit;
        if (bytes < 1 || bytes > 1L << 40) throw new BenchUsageException($"size {text} out of range (1 B .. 1 TiB)");
        return (long)bytes;
    }

    /// <summary>1073741824 -> "1 GiB".</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB"),
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };

    /// <summary>1073741824 -> "1GiB": a size as a command-line argument that <see cref="Parse"/> reads back exactly.</summary>
    public static string Argument(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30}GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20}MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10}KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
