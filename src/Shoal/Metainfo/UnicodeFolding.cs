using System.Collections.Frozen;
using System.Text;

namespace Shoal.Metainfo;

/// <summary>
/// The key under which a case-insensitive, normalisation-insensitive file system (Windows NTFS, macOS APFS and
/// HFS+) sees a name as the same file: canonical decomposition (NFD) and lower case. Shoal runs with invariant
/// globalization, where <see cref="string.Normalize()"/> does nothing, hence the table of
/// <see cref="CanonicalDecompositions"/>; Hangul syllables decompose by formula.
/// </summary>
/// <remarks>
/// Marks already decomposed in the input are not reordered into canonical order: two spellings of one letter with
/// several diacritics written in different orders are not recognised as equal. Such names are vanishingly rare, and
/// missing one only means both files keep their names, as libtorrent keeps them.
/// </remarks>
internal static class UnicodeFolding
{
    private const int HangulBase = 0xAC00, HangulCount = 11172, LeadBase = 0x1100, VowelBase = 0x1161, TrailBase = 0x11A7;
    private const int VowelCount = 21, TrailCount = 28;

    private static readonly FrozenDictionary<char, string> Decompositions = BuildTable();

    /// <summary>The folded key of <paramref name="text"/>; equal keys mean one file on a folding file system.</summary>
    public static string Key(string text)
    {
        bool ascii = true;
        foreach (char c in text)
        {
            if (c > 0x7F)
            {
                ascii = false;
                break;
            }
        }
        if (ascii) return text.ToLowerInvariant();

        var decomposed = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            int s = c - HangulBase;
            if (s is >= 0 and < HangulCount)
            {
                decomposed.Append((char)(LeadBase + (s / (VowelCount * TrailCount))));
                decomposed.Append((char)(VowelBase + (s % (VowelCount * TrailCount) / TrailCount)));
                if (s % TrailCount != 0) decomposed.Append((char)(TrailBase + (s % TrailCount)));
            }
            else if (Decompositions.TryGetValue(c, out string? parts))
            {
                decomposed.Append(parts);
            }
            else
            {
                decomposed.Append(c);
            }
        }
        return decomposed.ToString().ToLowerInvariant();
    }

    private static FrozenDictionary<char, string> BuildTable()
    {
        var table = new Dictionary<char, string>();
        foreach (string entry in CanonicalDecompositions.Table.Split('\0'))
        {
            if (entry.Length >= 2) table[entry[0]] = entry[1..];
        }
        return table.ToFrozenDictionary();
    }
}
