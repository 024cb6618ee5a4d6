namespace Shoal.Discovery;

/// <summary>
/// An extension-protocol payload (BEP 10 handshake, BEP 9 ut_metadata, BEP 11 ut_pex) is malformed or over a
/// limit. The caller usually closes the peer that sent it.
/// </summary>
public sealed class ExtensionMessageException : ShoalFormatException
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public ExtensionMessageException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level cause (usually a bencode error).</summary>
    public ExtensionMessageException(string message, Exception inner) : base(message, inner) { }
}
