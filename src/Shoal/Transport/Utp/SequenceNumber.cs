namespace Shoal.Transport.Utp;

/// <summary>
/// Comparisons of 16-bit uTP sequence numbers, which wrap: a number is "before" another when walking up from it
/// reaches the other in fewer than half the space (as TCP's serial number arithmetic).
/// </summary>
internal static class SequenceNumber
{
    /// <summary>True when <paramref name="a"/> comes strictly before <paramref name="b"/>.</summary>
    public static bool IsBefore(ushort a, ushort b) => (short)(a - b) < 0;

    /// <summary>True when <paramref name="a"/> comes strictly after <paramref name="b"/>.</summary>
    public static bool IsAfter(ushort a, ushort b) => (short)(a - b) > 0;

    /// <summary>Steps from <paramref name="from"/> up to <paramref name="to"/> (0..65535).</summary>
    public static int Distance(ushort from, ushort to) => (ushort)(to - from);
}
