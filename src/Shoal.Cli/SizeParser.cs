using System.Globalization;

namespace Shoal.Cli;

/// <summary>
/// Parses byte counts and rates such as <c>5MB</c>, <c>500kB</c>, <c>1.5MiB</c>, <c>100000</c> or <c>4M/s</c>.
/// Units, case-insensitive: B; kB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB are powers of 1024;
/// the single letters K, M, G, T mean KiB, MiB, GiB, TiB as in many BitTorrent clients. A trailing "/s" is
/// ignored so rates can be written naturally.
/// </summary>
internal static class SizeParser
{
    private const int MaxInputLength = 64;

    /// <summary>Parses <paramref name="text"/> or throws a <see cref="CliException"/> (usage) saying why not.</summary>
    public static long Parse(string text)
        => TryParse(text, out long value, out string? error) ? value : throw new CliException(error!);

    /// <summary>Parses without throwing; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out long bytes, out string? error)
    {
        bytes = 0;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a size cannot be empty";
            return false;
        }
        if (text.Length > MaxInputLength)
        {
            error = $"invalid size '{text[..16]}...': too long";
            return false;
        }

        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.EndsWith("/s", StringComparison.OrdinalIgnoreCase)) s = s[..^2].TrimEnd();

        int numberEnd = 0;
        while (numberEnd < s.Length && (char.IsAsciiDigit(s[numberEnd]) || s[numberEnd] == '.')) numberEnd++;
        ReadOnlySpan<char> number = s[..numberEnd];
        ReadOnlySpan<char> unit = s[numberEnd..].Trim();

        if (number.IsEmpty || !number.ContainsAnyInRange('0', '9')
            || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
        {
            error = s.StartsWith("-") ? $"invalid size '{text}': cannot be negative" : $"invalid size '{text}': expected a number such as 500kB, 5MB, 1.5MiB or 100000";
            return false;
        }

        long multiplier = UnitMultiplier(unit);
        if (multiplier == 0)
        {
            error = $"invalid size '{text}': unknown unit '{unit}' (use B, kB, KiB, MB, MiB, GB, GiB, or K, M, G)";
            return false;
        }
        if (multiplier == 1 && decimal.Truncate(value) != value)
        {
            error = $"invalid size '{text}': a number of bytes must be whole";
            return false;
        }
        if (value > long.MaxValue / (decimal)multiplier)
        {
            error = $"invalid size '{text}': too large";
            return false;
        }

        bytes = (long)decimal.Round(value * multiplier, MidpointRounding.AwayFromZero);
        return true;
    }

    /// <summary>Bytes per unit, or 0 when the unit is unknown.</summary>
    private static long UnitMultiplier(ReadOnlySpan<char> unit)
    {
        Span<char> lower = stackalloc char[4];
        if (unit.Length > lower.Length) return 0;
        int n = unit.ToLowerInvariant(lower);
        return lower[..n] switch
        {
            "" or "b" => 1,
            "k" or "kib" => 1L << 10,
            "m" or "mib" => 1L << 20,
            "g" or "gib" => 1L << 30,
            "t" or "tib" => 1L << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => 0,
        };
    }
}
