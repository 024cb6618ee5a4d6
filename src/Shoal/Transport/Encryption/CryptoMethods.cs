namespace Shoal.Transport.Encryption;

/// <summary>The MSE/PE crypto_provide / crypto_select bits: how the stream continues after the handshake.</summary>
[Flags]
public enum CryptoMethods : uint
{
    /// <summary>None offered (an invalid field).</summary>
    None = 0,

    /// <summary>0x01: only the handshake was obfuscated; the BitTorrent stream continues in plaintext.</summary>
    Plaintext = 0x01,

    /// <summary>0x02: the whole stream is RC4-encrypted.</summary>
    Rc4 = 0x02,
}
