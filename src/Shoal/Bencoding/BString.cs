using System.Text;
using System.Text.Unicode;

namespace Shoal.Bencoding;

/// <summary>
/// A bencoded byte string (<c>4:spam</c>). Bencode strings are bytes, not text: <see cref="Text"/> decodes
/// them as strict UTF-8 only when asked. A decoded string's <see cref="Bytes"/> alias the decoder's input.
/// </summary>
public sealed class BString : BValue, IEquatable<BString>
{
    /// <summary>Wraps the bytes (not copied).</summary>
    public BString(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    /// <summary>Creates the string from text, encoded as UTF-8.</summary>
    public BString(string text) => Bytes = Encoding.UTF8.GetBytes(text);

    /// <summary>The raw bytes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>Number of bytes.</summary>
    public int Length => Bytes.Length;

    /// <summary>The bytes as UTF-8 text. Throws <see cref="BencodeException"/> when they are not valid UTF-8.</summary>
    public string Text => TryGetText(out string? text)
        ? text
        : throw new BencodeException($"byte string {Describe(Bytes.Span)} is not valid UTF-8");

    /// <summary>Decodes the bytes as UTF-8; false when they are not valid UTF-8.</summary>
    public bool TryGetText([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        ReadOnlySpan<byte> span = Bytes.Span;
        if (!Utf8.IsValid(span))
        {
            text = null;
            return false;
        }
        text = Encoding.UTF8.GetString(span);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(BString? other) => other is not null && Bytes.Span.SequenceEqual(other.Bytes.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BString);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes.Span);
        return hash.ToHashCode();
    }

    /// <summary>The text when it is printable UTF-8, otherwise hex.</summary>
    public override string ToString() => Describe(Bytes.Span);

    /// <summary>A short, safe rendering of bytes for error messages: quoted text when printable UTF-8, else hex.</summary>
    internal static string Describe(ReadOnlySpan<byte> bytes)
    {
        const int MaxShown = 64;
        ReadOnlySpan<byte> shown = bytes.Length > MaxShown ? bytes[..MaxShown] : bytes;
        string suffix = bytes.Length > MaxShown ? "..." : "";
        if (Utf8.IsValid(shown))
        {
            string text = Encoding.UTF8.GetString(shown);
            bool printable = true;
            foreach (char c in text)
            {
                if (char.IsControl(c)) { printable = false; break; }
            }
            if (printable) return "'" + text + suffix + "'";
        }
        return "0x" + Convert.ToHexStringLower(shown) + suffix;
    }
}
