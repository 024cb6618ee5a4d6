using Shoal.Transport.Encryption;

namespace Shoal.Tests.Transport.Encryption;

/// <summary>
/// The Diffie-Hellman exchange and every derived MSE value against a vector computed independently of Shoal's code by
/// mse_vector.py (Python big integers, hashlib, a textbook RC4 checked against RFC 6229) from fixed private keys.
/// </summary>
public sealed class MseVectorTests
{
    private static readonly byte[] InitiatorPrivate = Convert.FromHexString("0123456789abcdef0123456789abcdef01234567");
    private static readonly byte[] ResponderPrivate = Convert.FromHexString("fedcba9876543210fedcba9876543210fedcba98");
    private static readonly byte[] StreamKey = Convert.FromHexString("c0ffee00112233445566778899aabbccddeeff01");

    private const string Ya = "6fd4bc7aa649593205ec30348a3ccc737b61fa01e9e1762c2c53eb69033afecbdf7c13b8ac3643af78d0760b0f42db009f2b96c970f009d060faf617f117d0f1c221cea0561b9a86e852fc70a6f09ad0f82378603aa5e56b811deb3f534bf276";
    private const string Yb = "e2666b9cffca63998c8e806db50c47ac12512b327c5ec48d62e0a43c2961afcf136e7219fe2ec51e656b2f01ed089dd8cc53c78e7d650df59a752131bcf8ffff122144bf10c6269b47886d6af58389223c66153ebb5e3dc18ea849ceb60ac18e";
    private const string Secret = "0bf59f468e43b9f22a5fd0ccbc9bd7825a7495f6e670c31533db364b536ee297a737d565ff7829d4c397de16aec19f893e3d28eaa14eaf7e17e1026697089fdff81c7dc7e4c65e6211443d9dd3e5d8b0c0e8b2888af39637af18a75cc1b17685";

    [Fact]
    public void BothSidesDeriveTheVectorsSharedSecret()
    {
        var initiator = new MseKeyExchange(InitiatorPrivate);
        var responder = new MseKeyExchange(ResponderPrivate);
        Assert.Equal(Ya, Convert.ToHexStringLower(initiator.PublicKey));
        Assert.Equal(Yb, Convert.ToHexStringLower(responder.PublicKey));
        Assert.Equal(Secret, Convert.ToHexStringLower(initiator.ComputeSecret(responder.PublicKey)));
        Assert.Equal(Secret, Convert.ToHexStringLower(responder.ComputeSecret(initiator.PublicKey)));
    }

    [Fact]
    public void HashesAndKeysMatchTheVector()
    {
        byte[] s = Convert.FromHexString(Secret);
        Assert.Equal("e12fb1218d51e869dc8785d0bfafa6f1d59ee4e0", Convert.ToHexStringLower(MseHashes.SyncHash(s)));
        Assert.Equal("7fa060cfc1bc8aa377258be372596ec7abd6ec7f", Convert.ToHexStringLower(MseHashes.ObfuscatedStreamKey(s, StreamKey)));
        Assert.Equal("c63c98722267e3078687e41b9515fb2ee12529b1", Convert.ToHexStringLower(MseHashes.InitiatorKey(s, StreamKey)));
        Assert.Equal("f3f391403d9486f9cbe577d6785bf6c97428ee90", Convert.ToHexStringLower(MseHashes.ResponderKey(s, StreamKey)));
    }

    [Fact]
    public void CiphersStartWhereTheVectorsKeystreamsDo()
    {
        byte[] s = Convert.FromHexString(Secret);
        var streamA = new byte[16];
        var streamB = new byte[16];
        Rc4Cipher.ForMse(MseHashes.InitiatorKey(s, StreamKey)).Apply(streamA);
        Rc4Cipher.ForMse(MseHashes.ResponderKey(s, StreamKey)).Apply(streamB);
        Assert.Equal("2a251b58ca033bb19e619387a1f9aff3", Convert.ToHexStringLower(streamA));
        // The responder's first eight keystream bytes are its encrypted verification constant (VC is zeros).
        Assert.Equal("4fcfbc4fb8105b7623c85bd51b46a6cb", Convert.ToHexStringLower(streamB));
    }

    [Theory]
    [InlineData("00")]
    [InlineData("01")]
    [InlineData("P-1")]
    [InlineData("P")]
    [InlineData("ff")]
    public void DegeneratePublicKeysAreRefused(string which)
    {
        byte[] key = new byte[MseKeyExchange.KeyLength];
        switch (which)
        {
            case "P-1": (MseKeyExchange.Prime - 1).TryWriteBytes(key, out _, isUnsigned: true, isBigEndian: true); break;
            case "P": MseKeyExchange.Prime.TryWriteBytes(key, out _, isUnsigned: true, isBigEndian: true); break;
            case "ff": key.AsSpan().Fill(0xFF); break;
            default: key[^1] = Convert.FromHexString(which)[0]; break;
        }
        var error = Assert.Throws<EncryptionHandshakeException>(() => new MseKeyExchange(InitiatorPrivate).ComputeSecret(key));
        Assert.Equal(EncryptionFailure.InvalidPublicKey, error.Failure);
    }
}
