using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Shoal.Transport.Encryption;

/// <summary>
/// The RC4 stream cipher, one direction of an MSE/PE connection. Encrypting and decrypting are the same operation:
/// the keystream is XORed into the bytes in place. The state is 256 bytes and two indices; applying it allocates
/// nothing. Not thread-safe: each direction of a connection owns its own instance, used by one loop at a time.
/// </summary>
/// <remarks>
/// RC4 is serial by nature (each keystream byte depends on the state the previous one left), so the speed comes
/// from keeping that chain short: byte state, indices kept in registers, no bounds checks, and eight keystream
/// bytes XORed into the data with one 64-bit load and store instead of eight read-modify-writes.
/// </remarks>
public sealed class Rc4Cipher
{
    /// <summary>Keystream bytes MSE/PE throws away after keying (RC4-drop1024), as every client does.</summary>
    public const int MseDiscardLength = 1024;

    private readonly byte[] _state = new byte[256];
    private nuint _i;
    private nuint _j;

    /// <summary>Keys the cipher (the key-scheduling algorithm); the keystream starts at its first byte.</summary>
    /// <param name="key">1 to 256 bytes.</param>
    public Rc4Cipher(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > 256) throw new ArgumentException("an RC4 key is 1 to 256 bytes", nameof(key));
        for (int k = 0; k < 256; k++) _state[k] = (byte)k;
        int j = 0;
        for (int k = 0; k < 256; k++)
        {
            j = (j + _state[k] + key[k % key.Length]) & 0xFF;
            (_state[k], _state[j]) = (_state[j], _state[k]);
        }
    }

    /// <summary>A cipher keyed with <paramref name="key"/> that has already thrown away the first 1024 keystream bytes.</summary>
    public static Rc4Cipher ForMse(ReadOnlySpan<byte> key)
    {
        var cipher = new Rc4Cipher(key);
        cipher.Skip(MseDiscardLength);
        return cipher;
    }

    /// <summary>Advances the keystream by <paramref name="count"/> bytes without using them.</summary>
    public void Skip(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Span<byte> scratch = stackalloc byte[256];
        while (count > 0)
        {
            int chunk = Math.Min(count, scratch.Length);
            Apply(scratch[..chunk]);
            count -= chunk;
        }
    }

    /// <summary>XORs the next keystream bytes into every segment of <paramref name="data"/>, in place.</summary>
    /// <remarks>
    /// The sequence is read-only by type only: pipe buffers are writable memory, and a reader that decrypts
    /// what it has just received owns those bytes until it advances past them.
    /// </remarks>
    public void Apply(in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            Apply(MemoryMarshal.AsMemory(data.First).Span);
            return;
        }
        foreach (ReadOnlyMemory<byte> segment in data) Apply(MemoryMarshal.AsMemory(segment).Span);
    }

    /// <summary>XORs the next <c>data.Length</c> keystream bytes into <paramref name="data"/>, in place.</summary>
    public void Apply(Span<byte> data)
    {
        ref byte state = ref MemoryMarshal.GetArrayDataReference(_state);
        ref byte bytes = ref MemoryMarshal.GetReference(data);
        nuint i = _i, j = _j;
        nuint length = (nuint)data.Length;
        nuint n = 0;
        for (; n + 8 <= length; n += 8)
        {
            ulong keystream = Next(ref state, ref i, ref j);
            keystream |= (ulong)Next(ref state, ref i, ref j) << 8;
            keystream |= (ulong)Next(ref state, ref i, ref j) << 16;
            keystream |= (ulong)Next(ref state, ref i, ref j) << 24;
            keystream |= (ulong)Next(ref state, ref i, ref j) << 32;
            keystream |= (ulong)Next(ref state, ref i, ref j) << 40;
            keystream |= (ulong)Next(ref state, ref i, ref j) << 48;
            keystream |= (ulong)Next(ref state, ref i, ref j) << 56;
            if (!BitConverter.IsLittleEndian) keystream = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(keystream);
            ref byte at = ref Unsafe.Add(ref bytes, n);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<ulong>(ref at) ^ keystream);
        }
        for (; n < length; n++) Unsafe.Add(ref bytes, n) ^= Next(ref state, ref i, ref j);
        _i = i;
        _j = j;
    }

    /// <summary>One step of the keystream generator (PRGA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Next(ref byte state, ref nuint i, ref nuint j)
    {
        i = (byte)(i + 1);
        nuint si = Unsafe.Add(ref state, i);
        j = (byte)(j + si);
        nuint sj = Unsafe.Add(ref state, j);
        Unsafe.Add(ref state, i) = (byte)sj;
        Unsafe.Add(ref state, j) = (byte)si;
        return Unsafe.Add(ref state, (byte)(si + sj));
    }
}
