namespace Shoal.Bencoding;

/// <summary>Bencoded input is malformed, non-canonical, over a limit, or of the wrong shape.</summary>
public sealed class BencodeException : ShoalFormatException
{
    /// <summary>Creates the exception with a message that says what is wrong and where.</summary>
    public BencodeException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level cause.</summary>
    public BencodeException(string message, Exception inner) : base(message, inner) { }
}
