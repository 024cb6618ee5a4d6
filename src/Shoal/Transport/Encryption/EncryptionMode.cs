namespace Shoal.Transport.Encryption;

/// <summary>Which peer connections a session makes and accepts (<c>--encryption</c>).</summary>
public enum EncryptionMode
{
    /// <summary>
    /// Dial with the MSE/PE handshake first and fall back to a plain connection when the peer does not answer it
    /// (a peer that failed once is dialled plain from then on); accept both.
    /// </summary>
    Prefer,

    /// <summary>Only RC4-encrypted connections, in and out; plain and obfuscated-only handshakes are refused.</summary>
    Require,

    /// <summary>Only plain BitTorrent connections; encrypted handshakes are refused.</summary>
    Disable,
}
