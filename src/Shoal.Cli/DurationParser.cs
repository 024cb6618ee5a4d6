using System.Globalization;

namespace Shoal.Cli;

/// <summary>
/// Parses durations as people write them: "90" (seconds), "90s", "5m", "1.5h", "2d", "1h30m". Units: s, m (or min),
/// h, d; case does not matter. Zero and negative durations are refused.
/// </summary>
internal static class DurationParser
{
    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, out string? error)
    {
        duration = TimeSpan.Zero;
        error = null;
        string s = (text ?? "").Trim().ToLowerInvariant();
        if (s.Length == 0)
        {
            error = "a duration is needed, e.g. 90s, 5m, 1h30m";
            return false;
        }
        if (double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double plainSeconds))
            return Accept(TimeSpan.FromSeconds(plainSeconds), text!, out duration, out error);

        double total = 0;
        int i = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                error = $"'{text}' is not a duration (e.g. 90s, 5m, 1h30m)";
                return false;
            }
            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            double? seconds = s[unitStart..i] switch
            {
                "s" or "sec" => 1,
                "m" or "min" => 60,
                "h" => 3600,
                "d" => 86400,
                _ => null,
            };
            if (seconds is null)
            {
                error = $"'{text}': unknown unit '{s[unitStart..i]}' (use s, m, h or d)";
                return false;
            }
            total += value * seconds.Value;
        }
        return Accept(TimeSpan.FromSeconds(total), text!, out duration, out error);
    }

    private static bool Accept(TimeSpan value, string text, out TimeSpan duration, out string? error)
    {
        duration = value;
        error = value > TimeSpan.Zero && value < TimeSpan.FromDays(3650) ? null : $"'{text}' must be more than 0 and less than ten years";
        return error is null;
    }
}
