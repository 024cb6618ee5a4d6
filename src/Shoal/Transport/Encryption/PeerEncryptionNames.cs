namespace Shoal.Transport.Encryption;

/// <summary>The words logs and displays use for <see cref="PeerEncryption"/>.</summary>
public static class PeerEncryptionNames
{
    /// <summary>"plain", "obfuscated" (MSE handshake, plaintext stream) or "rc4".</summary>
    public static string Describe(PeerEncryption encryption) => encryption switch
    {
        PeerEncryption.Rc4 => "rc4",
        PeerEncryption.Obfuscated => "obfuscated",
        _ => "plain",
    };
}
