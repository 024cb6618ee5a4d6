using System.Globalization;
using System.Text;

namespace Shoal.Cli;

/// <summary>
/// Makes text from outside (a torrent's names and comment, a tracker's failure reason, a peer's client name, an
/// exception message that quotes any of them) safe to print on a terminal. A name holding ESC could move the cursor,
/// rewrite the screen or set the window title; BEL rings; a newline forges a line that looks like ours; a bidi
/// override makes "exe.txt" read as "txt.exe". Every such character is shown as an escape instead, so the user sees
/// exactly what is there and the terminal interprets nothing. One function, used wherever <c>shoal</c> prints.
/// </summary>
internal static class TerminalText
{
    /// <summary>
    /// <paramref name="text"/> with every control character escaped: C0 controls and DEL as <c>\n</c>, <c>\t</c>,
    /// <c>\r</c>, <c>\e</c> or <c>\xHH</c>; C1 controls, bidirectional formatting characters and the Unicode line and
    /// paragraph separators as <c>\uHHHH</c>. Everything else, backslashes included, is left as it is.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        int first = 0;
        while (first < text.Length && !NeedsEscape(text[first])) first++;
        if (first == text.Length) return text; // the common case: nothing to do, nothing allocated

        var escaped = new StringBuilder(text.Length + 16);
        escaped.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (!NeedsEscape(c))
            {
                escaped.Append(c);
                continue;
            }
            escaped.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\x1b' => "\\e",
                < '\x80' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }
        return escaped.ToString();
    }

    /// <summary>True for the characters <see cref="Escape"/> rewrites.</summary>
    public static bool NeedsEscape(char c) => c switch
    {
        < ' ' or '\x7f' => true,                     // C0 controls (ESC, BEL, newlines, tabs...) and DEL
        >= '\x80' and <= '\x9f' => true,             // C1 controls: CSI (0x9B) works like ESC [ on many terminals
        '\u061c' or '\u200e' or '\u200f' => true,    // Arabic letter mark, left-to-right and right-to-left marks
        >= '\u202a' and <= '\u202e' => true,         // bidi embeddings and overrides (RLO turns "gpj.exe" around)
        >= '\u2066' and <= '\u2069' => true,         // bidi isolates
        '\u2028' or '\u2029' => true,                // line and paragraph separators
        _ => false,
    };
}
