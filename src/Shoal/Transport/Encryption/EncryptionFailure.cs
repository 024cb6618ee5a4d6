namespace Shoal.Transport.Encryption;

/// <summary>Why an MSE/PE handshake (or the choice between plain and encrypted) failed.</summary>
public enum EncryptionFailure
{
    /// <summary>The peer closed or reset the connection before the handshake ended.</summary>
    ConnectionClosed,

    /// <summary>The handshake did not end before its deadline.</summary>
    TimedOut,

    /// <summary>The peer's Diffie-Hellman public key is degenerate.</summary>
    InvalidPublicKey,

    /// <summary>The peer sent more than the 512 bytes of padding the specification allows before its key or a sync point.</summary>
    PaddingTooLong,

    /// <summary>The sync hash HASH('req1', S) did not appear within the allowed padding.</summary>
    SyncHashNotFound,

    /// <summary>The encrypted verification constant did not appear within the allowed padding.</summary>
    VerificationConstantNotFound,

    /// <summary>The decrypted verification constant was not eight zero bytes.</summary>
    BadVerificationConstant,

    /// <summary>The obfuscated info-hash matches no torrent of the session.</summary>
    UnknownTorrent,

    /// <summary>The crypto methods offered or selected do not fit the mode.</summary>
    NoCommonCryptoMethod,

    /// <summary>A length field (PadC, PadD, IA) is out of range.</summary>
    BadLength,

    /// <summary>A plain BitTorrent handshake arrived while encryption is required.</summary>
    PlaintextRefused,

    /// <summary>An encrypted handshake arrived while encryption is disabled.</summary>
    EncryptedRefused,

    /// <summary>The first bytes are neither a BitTorrent handshake nor the start of an encrypted one.</summary>
    NotAHandshake,
}
