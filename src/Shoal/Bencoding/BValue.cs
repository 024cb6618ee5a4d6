namespace Shoal.Bencoding;

/// <summary>
/// A bencoded value: <see cref="BInteger"/>, <see cref="BString"/>, <see cref="BList"/> or <see cref="BDictionary"/>.
/// A decoded value remembers the byte range it was decoded from, so the exact original bytes of a
/// sub-value (the info dictionary, for hashing) can be sliced without re-encoding.
/// </summary>
public abstract class BValue
{
    private ReadOnlyMemory<byte> _source;

    private protected BValue() { }

    /// <summary>Offset of this value in the decoded input, or -1 for a value built in code.</summary>
    public int SourceStart { get; private set; } = -1;

    /// <summary>Length in bytes of this value's encoding in the decoded input (0 for a value built in code).</summary>
    public int SourceLength { get; private set; }

    /// <summary>
    /// False when this value, or anything inside it, was decoded leniently from non-canonical bencode (keys out of
    /// order or repeated, leading zeros, <c>-0</c>, an overflowing integer); true for everything else, including
    /// values built in code. Re-encoding a non-canonical value does not reproduce its <see cref="SourceBytes"/>.
    /// </summary>
    public bool IsCanonical { get; internal set; } = true;

    /// <summary>True when the value came from <see cref="Bencode.Decode"/> and carries its source range.</summary>
    public bool HasSource => SourceStart >= 0;

    /// <summary>
    /// The exact bytes this value was decoded from (a slice of the decoder's input, not a copy); empty for a
    /// value built in code. Editing a decoded container afterwards does not change this range.
    /// </summary>
    public ReadOnlyMemory<byte> SourceBytes => HasSource ? _source.Slice(SourceStart, SourceLength) : ReadOnlyMemory<byte>.Empty;

    internal void SetSource(ReadOnlyMemory<byte> input, int start, int length)
    {
        _source = input;
        SourceStart = start;
        SourceLength = length;
    }
}
