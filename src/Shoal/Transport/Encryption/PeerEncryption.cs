namespace Shoal.Transport.Encryption;

/// <summary>How one connection's bytes travel (shown per peer).</summary>
public enum PeerEncryption
{
    /// <summary>A plain BitTorrent connection.</summary>
    None,

    /// <summary>The MSE/PE handshake, then the stream in plaintext (the peer selected crypto method 0x01).</summary>
    Obfuscated,

    /// <summary>The MSE/PE handshake, then the whole stream RC4-encrypted.</summary>
    Rc4,
}
