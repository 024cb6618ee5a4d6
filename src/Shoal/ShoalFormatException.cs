namespace Shoal;

/// <summary>
/// The one exception family Shoal's parsers throw for malformed input (bencode, metainfo, magnet links,
/// wire frames, tracker and DHT packets). Anything else escaping a parser is a bug; the fuzz tests rely on it.
/// </summary>
public class ShoalFormatException : FormatException
{
    /// <summary>Creates the exception with a message that says what is wrong with the input.</summary>
    public ShoalFormatException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level cause.</summary>
    public ShoalFormatException(string message, Exception inner) : base(message, inner) { }
}
