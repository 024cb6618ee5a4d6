namespace Shoal.Transport.Encryption;

/// <summary>
/// An MSE/PE handshake, or the choice between a plain and an encrypted connection, failed. An I/O error of the
/// connection: the peer is dropped, the message says why in words a log reader understands.
/// </summary>
public sealed class EncryptionHandshakeException : IOException
{
    /// <summary>Creates the exception.</summary>
    public EncryptionHandshakeException(EncryptionFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    /// <summary>What went wrong, for code that reacts to it (fallback to plain, tests).</summary>
    public EncryptionFailure Failure { get; }
}
