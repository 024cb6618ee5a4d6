using System.Buffers;
using Shoal.Tests.Wire;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Transport.Encryption;

public sealed class Rc4CipherTests
{
    // RFC 6229 section 2 (keystream at offset 0 for keys 0x0102..), plus offset 16 and offset 1024 of the 40-bit key:
    // MSE drops exactly the first 1024 bytes, so that offset is the one its ciphers start at.
    [Theory]
    [InlineData("0102030405", 0, "b2396305f03dc027ccc3524a0a1118a8")]
    [InlineData("0102030405", 16, "6982944f18fc82d589c403a47a0d0919")]
    [InlineData("0102030405", 1024, "30abbcc7c20b01609f23ee2d5f6bb7df")]
    [InlineData("01020304050607", 0, "293f02d47f37c9b633f2af5285feb46b")]
    [InlineData("0102030405060708", 0, "97ab8a1bf0afb96132f2f67258da15a8")]
    [InlineData("0102030405060708090a", 0, "ede3b04643e586cc907dc21851709902")]
    [InlineData("0102030405060708090a0b0c0d0e0f10", 0, "9ac7cc9a609d1ef7b2932899cde41b97")]
    public void KeystreamMatchesRfc6229(string key, int offset, string expected)
    {
        var cipher = new Rc4Cipher(Convert.FromHexString(key));
        cipher.Skip(offset);
        var stream = new byte[16];
        cipher.Apply(stream);
        Assert.Equal(expected, Convert.ToHexStringLower(stream));
    }

    [Fact]
    public void ForMseStartsAfterTheFirst1024KeystreamBytes()
    {
        var stream = new byte[16];
        Rc4Cipher.ForMse([1, 2, 3, 4, 5]).Apply(stream);
        Assert.Equal("30abbcc7c20b01609f23ee2d5f6bb7df", Convert.ToHexStringLower(stream));
    }

    [Theory]
    [InlineData("Key", "Plaintext", "bbf316e8d940af0ad3")]
    [InlineData("Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5")]
    public void EncryptsTheClassicVectors(string key, string plaintext, string expected)
    {
        byte[] data = System.Text.Encoding.ASCII.GetBytes(plaintext);
        new Rc4Cipher(System.Text.Encoding.ASCII.GetBytes(key)).Apply(data);
        Assert.Equal(expected, Convert.ToHexStringLower(data));
    }

    [Fact]
    public void PiecewiseApplicationEqualsOneLongMessage()
    {
        byte[] key = Convert.FromHexString("c63c98722267e3078687e41b9515fb2ee12529b1");
        var plain = new byte[10_000];
        new Random(7).NextBytes(plain);
        byte[] whole = (byte[])plain.Clone();
        new Rc4Cipher(key).Apply(whole);

        // Odd lengths exercise the 8-byte fast path and the byte-wise tail at every alignment.
        byte[] pieces = (byte[])plain.Clone();
        var cipher = new Rc4Cipher(key);
        int at = 0, step = 1;
        while (at < pieces.Length)
        {
            int length = Math.Min(step, pieces.Length - at);
            cipher.Apply(pieces.AsSpan(at, length));
            at += length;
            step = step % 37 + 3;
        }
        Assert.Equal(whole, pieces);

        // And over a multi-segment sequence, in place.
        byte[] segmented = (byte[])plain.Clone();
        ReadOnlySequence<byte> sequence = SegmentedSequence.Create(segmented, 1, 8, 4104, 4117, 9117);
        new Rc4Cipher(key).Apply(sequence);
        Assert.Equal(whole, sequence.ToArray());
    }

    [Fact]
    public void ApplyingTwiceRestoresThePlaintext()
    {
        var data = new byte[1000];
        new Random(3).NextBytes(data);
        byte[] copy = (byte[])data.Clone();
        new Rc4Cipher([9, 9, 9]).Apply(data);
        Assert.NotEqual(copy, data);
        new Rc4Cipher([9, 9, 9]).Apply(data);
        Assert.Equal(copy, data);
    }

    [Fact]
    public void RefusesEmptyAndOverlongKeys()
    {
        Assert.Throws<ArgumentException>(() => new Rc4Cipher([]));
        Assert.Throws<ArgumentException>(() => new Rc4Cipher(new byte[257]));
    }
}
