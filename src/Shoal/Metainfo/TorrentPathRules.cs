namespace Shoal.Metainfo;

/// <summary>How names from a torrent appear in error messages (see <see cref="PathSanitizer"/> for how they become safe).</summary>
internal static class TorrentPathRules
{
    /// <summary>At most 80 characters, control and format characters (bidirectional marks) shown as '?', so an error message stays one harmless line.</summary>
    internal static string Printable(string text)
    {
        var chars = new System.Text.StringBuilder(Math.Min(text.Length, 80));
        foreach (char c in text.Length > 80 ? text[..80] : text)
        {
            chars.Append(char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format ? '?' : c);
        }
        return text.Length > 80 ? chars + "..." : chars.ToString();
    }
}
