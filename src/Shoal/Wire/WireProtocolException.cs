namespace Shoal.Wire;

/// <summary>
/// A peer sent bytes that break the peer wire protocol (bad handshake, oversized or malformed frame,
/// out-of-range index). The connection should be dropped; the session goes on.
/// </summary>
public sealed class WireProtocolException : ShoalFormatException
{
    /// <summary>Creates the exception with a message that says what is wrong with the input.</summary>
    public WireProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level cause.</summary>
    public WireProtocolException(string message, Exception inner) : base(message, inner) { }
}
