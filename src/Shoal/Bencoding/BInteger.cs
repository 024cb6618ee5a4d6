namespace Shoal.Bencoding;

/// <summary>A bencoded integer (<c>i42e</c>), limited to the range of <see cref="long"/>.</summary>
public sealed class BInteger : BValue, IEquatable<BInteger>
{
    /// <summary>Creates the integer.</summary>
    public BInteger(long value) => Value = value;

    /// <summary>The value.</summary>
    public long Value { get; }

    /// <inheritdoc />
    public bool Equals(BInteger? other) => other is not null && other.Value == Value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BInteger);

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
