using System.Globalization;

namespace Shoal.Cli;

/// <summary>Formats sizes, rates, durations and percentages for people (binary units: KiB, MiB, GiB).</summary>
internal static class HumanFormat
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>"512 B", "1.50 KiB", "64.0 MiB", "123 GiB": three significant digits.</summary>
    public static string Size(long bytes)
    {
        if (bytes < 0) return "-" + Size(bytes == long.MinValue ? long.MaxValue : -bytes);
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // Rounding can carry 1023.9 KiB to "1024 KiB"; show it as the next unit instead.
        if (Math.Round(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        string format = value < 9.995 ? "0.00" : value < 99.95 ? "0.0" : "0";
        return value.ToString(format, CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>A size followed by its exact byte count: "64.0 MiB (67108864 bytes)".</summary>
    public static string SizeWithBytes(long bytes)
        => bytes < 1024 ? Size(bytes) : $"{Size(bytes)} ({bytes.ToString(CultureInfo.InvariantCulture)} bytes)";

    /// <summary>"1.20 MiB/s".</summary>
    public static string Rate(long bytesPerSecond) => Size(bytesPerSecond) + "/s";

    /// <summary>"0:07", "12:34", "1:02:03"; "--:--" when unknown.</summary>
    public static string Duration(TimeSpan? duration)
    {
        if (duration is not { } d || d < TimeSpan.Zero || d.TotalDays >= 100) return "--:--";
        return d.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours}:{d.Minutes:00}:{d.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{d.Minutes}:{d.Seconds:00}");
    }

    /// <summary>Seconds with one decimal: "27.4 s".</summary>
    public static string Seconds(TimeSpan duration)
        => duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    /// <summary>A 0..1 fraction as "42.3%".</summary>
    public static string Percent(double fraction)
    {
        double clamped = double.IsNaN(fraction) ? 0 : Math.Clamp(fraction, 0, 1);
        return (clamped * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    }
}
