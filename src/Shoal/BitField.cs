using System.Numerics;

namespace Shoal;

/// <summary>
/// A fixed-length set of bits, one per piece, laid out exactly as the BitTorrent wire format does
/// (most significant bit of byte 0 is piece 0) so it can be sent and received without conversion.
/// Not thread-safe: owned by one actor.
/// </summary>
public sealed class BitField
{
    private readonly byte[] _bytes;
    private int _setCount;

    /// <summary>Creates an all-clear field of <paramref name="length"/> bits.</summary>
    public BitField(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bytes = new byte[(length + 7) / 8];
    }

    /// <summary>Number of bits.</summary>
    public int Length { get; }

    /// <summary>Number of set bits.</summary>
    public int SetCount => _setCount;

    /// <summary>The share of bits set, 0 to 1 (0 for an empty field): how much of a torrent a peer has.</summary>
    public double SetFraction => Length == 0 ? 0 : (double)_setCount / Length;

    /// <summary>True when every bit is set.</summary>
    public bool AllSet => _setCount == Length;

    /// <summary>True when no bit is set.</summary>
    public bool NoneSet => _setCount == 0;

    /// <summary>The wire representation (spare bits at the end are always zero).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Gets or sets one bit.</summary>
    public bool this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
            return (_bytes[index >> 3] & (0x80 >> (index & 7))) != 0;
        }
        set
        {
            if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
            ref byte b = ref _bytes[index >> 3];
            byte mask = (byte)(0x80 >> (index & 7));
            bool was = (b & mask) != 0;
            if (value == was) return;
            if (value) { b |= mask; _setCount++; }
            else { b &= (byte)~mask; _setCount--; }
        }
    }

    /// <summary>Sets every bit.</summary>
    public void SetAll()
    {
        Array.Fill(_bytes, (byte)0xFF);
        ClearSpareBits();
        _setCount = Length;
    }

    /// <summary>Clears every bit.</summary>
    public void ClearAll()
    {
        Array.Clear(_bytes);
        _setCount = 0;
    }

    /// <summary>
    /// Replaces the content from a wire bitfield. Throws <see cref="ShoalFormatException"/> when the length
    /// is wrong or a spare bit is set (BEP 3 says such a peer should be dropped).
    /// </summary>
    public void LoadFrom(ReadOnlySpan<byte> wire)
    {
        if (wire.Length != _bytes.Length)
            throw new ShoalFormatException($"bitfield is {wire.Length} bytes, expected {_bytes.Length}");
        int spare = _bytes.Length * 8 - Length;
        if (spare > 0 && (wire[^1] & ((1 << spare) - 1)) != 0)
            throw new ShoalFormatException("bitfield has spare bits set");
        wire.CopyTo(_bytes);
        RecountSetBits();
    }

    /// <summary>
    /// Replaces the content from a wire bitfield whose spare bits (past the last piece) may be set: they are
    /// cleared. libtorrent reads bitfields this way; BEP 3's "drop the peer" buys no safety. Throws
    /// <see cref="ShoalFormatException"/> only when the length is wrong.
    /// </summary>
    public void LoadFromIgnoringSpareBits(ReadOnlySpan<byte> wire)
    {
        if (wire.Length != _bytes.Length)
            throw new ShoalFormatException($"bitfield is {wire.Length} bytes, expected {_bytes.Length}");
        wire.CopyTo(_bytes);
        ClearSpareBits();
        RecountSetBits();
    }

    /// <summary>Copies another field of the same length into this one.</summary>
    public void CopyFrom(BitField other)
    {
        if (other.Length != Length) throw new ArgumentException("length mismatch", nameof(other));
        other._bytes.CopyTo(_bytes, 0);
        _setCount = other._setCount;
    }

    /// <summary>The indices of the set bits in ascending order, enumerated a byte at a time without allocating.</summary>
    public SetBitEnumerator SetBits => new(_bytes);

    /// <summary>Enumerates the set bits of a <see cref="BitField"/> (use with foreach).</summary>
    public ref struct SetBitEnumerator
    {
        private readonly ReadOnlySpan<byte> _bytes;
        private int _byteIndex;
        private uint _remaining;

        internal SetBitEnumerator(ReadOnlySpan<byte> bytes)
        {
            _bytes = bytes;
            _byteIndex = -1;
            _remaining = 0;
            Current = -1;
        }

        /// <summary>The index of the current set bit.</summary>
        public int Current { get; private set; }

        /// <summary>Lets foreach use the enumerator directly.</summary>
        public readonly SetBitEnumerator GetEnumerator() => this;

        /// <summary>Moves to the next set bit.</summary>
        public bool MoveNext()
        {
            while (_remaining == 0)
            {
                if (++_byteIndex >= _bytes.Length) return false;
                _remaining = _bytes[_byteIndex];
            }
            // The wire layout puts bit 0 in the most significant position of each byte.
            int bit = BitOperations.LeadingZeroCount(_remaining) - 24;
            _remaining &= ~(0x80u >> bit);
            Current = _byteIndex * 8 + bit;
            return true;
        }
    }

    /// <summary>Index of the first clear bit at or after <paramref name="start"/>, or -1.</summary>
    public int FirstClear(int start = 0)
    {
        for (int i = start; i < Length; i++)
            if (!this[i]) return i;
        return -1;
    }

    /// <summary>True when <paramref name="other"/> has at least one bit set that this field lacks.</summary>
    public bool HasAnyMissingFrom(BitField other)
    {
        if (other.Length != Length) throw new ArgumentException("length mismatch", nameof(other));
        for (int i = 0; i < _bytes.Length; i++)
            if ((other._bytes[i] & ~_bytes[i]) != 0) return true;
        return false;
    }

    private void RecountSetBits()
    {
        int n = 0;
        foreach (byte b in _bytes) n += BitOperations.PopCount(b);
        _setCount = n;
    }

    private void ClearSpareBits()
    {
        int spare = _bytes.Length * 8 - Length;
        if (spare > 0) _bytes[^1] &= (byte)(0xFF << spare);
    }
}
