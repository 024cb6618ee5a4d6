namespace Shoal.Dht;

/// <summary>A KRPC (DHT) packet is malformed, over a limit, or of the wrong shape.</summary>
public sealed class KrpcFormatException : ShoalFormatException
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public KrpcFormatException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level cause.</summary>
    public KrpcFormatException(string message, Exception inner) : base(message, inner) { }
}
